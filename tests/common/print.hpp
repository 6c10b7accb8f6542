// How BOOST_TEST prints standard types it has no printer for (optionals, durations and time
// points), so a failed check shows the values it compared.
#pragma once

#include <boost/test/tools/detail/print_helper.hpp>

#include <chrono>
#include <optional>
#include <ostream>

namespace boost::test_tools::tt_detail {

template <class T>
struct print_log_value<std::optional<T>> {
    void operator()(std::ostream& os, const std::optional<T>& v) {
        if (v) {
            print_log_value<T>()(os, *v);
        } else {
            os << "nullopt";
        }
    }
};

template <class Rep, class Period>
struct print_log_value<std::chrono::duration<Rep, Period>> {
    void operator()(std::ostream& os, const std::chrono::duration<Rep, Period>& d) {
        os << std::chrono::duration_cast<std::chrono::microseconds>(d).count() << "us";
    }
};

template <class Clock, class Duration>
struct print_log_value<std::chrono::time_point<Clock, Duration>> {
    void operator()(std::ostream& os, const std::chrono::time_point<Clock, Duration>& t) {
        os << std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() << "ms";
    }
};

template <>
struct print_log_value<std::nullopt_t> {
    void operator()(std::ostream& os, std::nullopt_t) { os << "nullopt"; }
};

} // namespace boost::test_tools::tt_detail
