# Link with mold when it is installed (scripts/setup installs it): a test executable of the
# sanitizer build links in about a second instead of tens of seconds with GNU ld, which is most of
# what a cold build's tail costs on 2 cores. Only this project's own links use it: nothing here
# reaches the exported package's targets.
option(COMPANION_MOLD "Link with mold when it is available" ON)
if(COMPANION_MOLD)
    include(CheckLinkerFlag)
    check_linker_flag(CXX "-fuse-ld=mold" COMPANION_HAS_MOLD)
    if(COMPANION_HAS_MOLD)
        add_link_options(-fuse-ld=mold)
    endif()
endif()
