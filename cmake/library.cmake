# companion_add_library(<name> SOURCES <files...> [PUBLIC <deps...>] [PRIVATE <deps...>])
#
# One layer's (or one client's, one simulator's) static library: the target companion_<name> with
# the alias companion::<name>, the repository root as its public include path (headers are
# included as "layer/file.hpp"), the project's warnings and sanitizers, and its dependencies. The
# link graph is the layering (design.md §2), so PUBLIC names only the layers a header includes.
function(companion_add_library name)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE")
    if(arg_UNPARSED_ARGUMENTS OR NOT arg_SOURCES)
        message(FATAL_ERROR "companion_add_library(${name}): SOURCES <files...> [PUBLIC ...] [PRIVATE ...]")
    endif()
    add_library(companion_${name} STATIC ${arg_SOURCES})
    # Installed, the headers sit under include/companion/ (cmake/install.cmake), still included as
    # "layer/file.hpp"; the warnings are this project's own and stay out of a consumer's build.
    target_include_directories(companion_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                                        $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/companion>)
    target_link_libraries(companion_${name} PUBLIC ${arg_PUBLIC}
                                            PRIVATE ${arg_PRIVATE} $<BUILD_INTERFACE:companion_options>)
    add_library(companion::${name} ALIAS companion_${name})
endfunction()
