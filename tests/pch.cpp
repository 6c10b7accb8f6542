// The translation unit that owns the test executables' shared precompiled header (pch.hpp); the
// test targets reuse it (tests/CMakeLists.txt). It defines nothing.
