// The shared Boost.Test entry point of every test executable.
#define BOOST_TEST_MODULE companion
#include <boost/test/unit_test.hpp>
