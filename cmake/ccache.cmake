# Use ccache when present. The sloppiness settings let ccache cache translation units that use a
# precompiled header.
find_program(COMPANION_CCACHE ccache)
if(COMPANION_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
        ${COMPANION_CCACHE})
endif()
