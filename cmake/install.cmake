# Installation (issue 23): what `cmake --install` lays out, the exported CMake package another
# project finds with find_package(companion 0.2 CONFIG REQUIRED COMPONENTS engine net), and the
# Debian package CPack makes from the same rules (`cpack -G DEB` in a build folder).
#
# Components:
#   bot      the executables and the data they ship with (share/companion/)
#   dev      the engine and net layers: headers under include/companion/, static libraries, the
#            CMake package (lib/cmake/companion/)
#   service  /etc/companion and the systemd unit: absolute paths, so only in the Debian package
#            (a plain `cmake --install` leaves them out)
include(CMakePackageConfigHelpers)

set(COMPANION_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/companion")

# ---- bot ----------------------------------------------------------------------------------------
install(TARGETS companion-bot companion-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bot)
# The image module the bot loads on its first image (pipelines/detail/media_module.hpp).
install(TARGETS companion_media_vips LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/companion COMPONENT bot)
install(FILES data/personas.json data/companion.example.toml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/companion COMPONENT bot)
install(DIRECTORY data/locales DESTINATION ${CMAKE_INSTALL_DATADIR}/companion COMPONENT bot
        FILES_MATCHING PATTERN "*.json")
install(FILES README.md packaging/grafana/companion-dashboard.json DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT bot)

# ---- dev: the engine and net layers as a CMake package ------------------------------------------
set_target_properties(companion_boost PROPERTIES EXPORT_NAME boost)
set_target_properties(companion_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(companion_net PROPERTIES EXPORT_NAME net)
install(TARGETS companion_boost companion_engine EXPORT companion-engine-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(TARGETS companion_net EXPORT companion-net-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT companion-engine-targets NAMESPACE companion:: DESTINATION ${COMPANION_CMAKE_DIR}
        COMPONENT dev)
install(EXPORT companion-net-targets NAMESPACE companion:: DESTINATION ${COMPANION_CMAKE_DIR}
        COMPONENT dev)
# Headers keep their "layer/file.hpp" names under include/companion/.
install(DIRECTORY engine/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/companion/engine COMPONENT dev
        FILES_MATCHING PATTERN "*.hpp")
install(FILES net/api_error.hpp net/error.hpp
              net/http_client.hpp net/http_server.hpp
              net/multipart.hpp net/sse.hpp net/url.hpp
              net/utf16.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/companion/net COMPONENT dev)
configure_package_config_file(packaging/companionConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/companionConfig.cmake
                              INSTALL_DESTINATION ${COMPANION_CMAKE_DIR})
# 0.x: a minor version may break the API, so 0.2 accepts 0.2.* only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/companionConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/companionConfig.cmake ${PROJECT_BINARY_DIR}/companionConfigVersion.cmake
        DESTINATION ${COMPANION_CMAKE_DIR} COMPONENT dev)

# ---- service: the Debian package's /etc and systemd unit ----------------------------------------
# The unit names the package's paths (the service component is only in the package).
set(COMPANION_PACKAGE_PREFIX /usr)
configure_file(packaging/companion.service.in ${PROJECT_BINARY_DIR}/packaging/companion.service @ONLY)
install(FILES packaging/companion.toml DESTINATION /etc/companion COMPONENT service EXCLUDE_FROM_ALL)
install(FILES packaging/secrets.env DESTINATION /etc/companion COMPONENT service EXCLUDE_FROM_ALL
        PERMISSIONS OWNER_READ OWNER_WRITE)
install(FILES ${PROJECT_BINARY_DIR}/packaging/companion.service DESTINATION /lib/systemd/system
        COMPONENT service EXCLUDE_FROM_ALL)

# ---- the Debian package -------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME companion)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "companion")
set(CPACK_PACKAGE_CONTACT "companion maintainers <maintainers@companion.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Telegram bot of AI personas that chat and send selfies and videos")
set(CPACK_PACKAGE_DESCRIPTION
    "companion-bot runs a Telegram bot whose users pick an AI persona, chat with her in Turkish, \
Russian or English, and get generated selfies and short videos of her. One thread, one event loop, \
every piece of I/O a coroutine. Runs as the systemd service companion.service; companion-sim \
serves simulated Telegram, LLM, image and video APIs for trying it without accounts.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${COMPANION_PACKAGE_PREFIX})
# One package of the bot and its service (the dev component is for `cmake --install`).
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL bot service)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages by their Debian names (dpkg-shlibdeps), and the CA bundle that
# TLS peer verification reads.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
