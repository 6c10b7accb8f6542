// What the provider client tests share: the loopback simulator fixture, planned faults, file
// checks (tests/common/sim_fixture.hpp) and a temp folder for downloads.
#pragma once

#include "tests/common/sim_fixture.hpp"
#include "tests/common/temp_dir.hpp"

#include <chrono>

namespace companion::test {} // namespace companion::test
