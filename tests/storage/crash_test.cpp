// The durability claim of design.md §4, tested for real: a child process commits a burst and
// reports each commit after it returns; SIGKILL mid-burst must leave an intact database holding
// every reported commit.
#include "storage/database.hpp"
#include "storage/updates.hpp"
#include "tests/storage/test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <set>
#include <vector>

namespace companion::storage::test {
namespace {

[[noreturn]] void commit_forever(const std::filesystem::path& db_path, int report_fd) {
    try {
        database db(database_config{.path = db_path});
        update_log log(db);
        for (std::int64_t id = 1;; ++id) {
            db.in_transaction([&] {
                log.mark_processed(id, t0);
                log.set_offset(id + 1);
            });
            if (::write(report_fd, &id, sizeof id) != static_cast<ssize_t>(sizeof id)) {
                ::_exit(3);
            }
        }
    } catch (...) {
        ::_exit(2);
    }
}

bool read_id(int fd, std::int64_t& id) {
    auto* p = reinterpret_cast<char*>(&id);
    std::size_t got = 0;
    while (got < sizeof id) {
        const ssize_t n = ::read(fd, p + got, sizeof id - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        got += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_crash)

BOOST_FIXTURE_TEST_CASE(sigkill_mid_burst_loses_no_acknowledged_commit, temp_dir) {
    // Migrate first, so the child is already in its hot loop when it dies.
    { database created(database_config{.path = db_path()}); }

    int fds[2];
    BOOST_TEST_REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        commit_forever(db_path(), fds[1]);
    }
    ::close(fds[1]);

    std::vector<std::int64_t> acknowledged;
    std::int64_t id = 0;
    while (acknowledged.size() < 2000 && read_id(fds[0], id)) {
        acknowledged.push_back(id);
    }
    ::kill(child, SIGKILL);
    // Commits reported before the kill are still in the pipe.
    while (read_id(fds[0], id)) {
        acknowledged.push_back(id);
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    BOOST_TEST_REQUIRE(WIFSIGNALED(status));
    BOOST_TEST(WTERMSIG(status) == SIGKILL);
    BOOST_TEST_REQUIRE(acknowledged.size() >= 2000U);

    database db(database_config{.path = db_path()});
    BOOST_TEST(db.integrity_check() == "ok");
    update_log log(db);
    std::size_t missing = 0;
    for (std::int64_t a : acknowledged) {
        missing += log.is_processed(a) ? 0U : 1U;
    }
    BOOST_TEST(missing == 0U);
    BOOST_TEST(log.offset().value() >= acknowledged.back() + 1);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace companion::storage::test
