# Project-wide warning and sanitizer flags. companion_options (warnings and sanitizers) is linked
# by every project target; companion_sanitizers alone by the Boost translation unit, whose
# sources are not ours to hold to our warning level.
add_library(companion_sanitizers INTERFACE)
if(COMPANION_SANITIZE)
    target_compile_options(companion_sanitizers INTERFACE -fsanitize=address,undefined
                                                          -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(companion_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
if(COMPANION_TSAN)
    target_compile_options(companion_sanitizers INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(companion_sanitizers INTERFACE -fsanitize=thread)
endif()

add_library(companion_options INTERFACE)
target_link_libraries(companion_options INTERFACE companion_sanitizers)
target_compile_options(companion_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
    -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
# g++ 12 reports a false -Wmismatched-new-delete on inlined coroutine frames (Asio's awaitable
# frames pair their own operator new and delete); the warning is wrong there and only there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(companion_options INTERFACE -Wno-mismatched-new-delete)
endif()
# g++ 12 warns (-Wtsan) that ThreadSanitizer does not model std::atomic_thread_fence, which
# library headers use; the project itself synchronizes with mutexes and atomics, not fences.
if(COMPANION_TSAN AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(companion_options INTERFACE -Wno-tsan)
endif()
if(COMPANION_WERROR)
    target_compile_options(companion_options INTERFACE -Werror)
endif()
