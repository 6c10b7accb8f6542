// One bot per data folder (issue 15, finding 7): an exclusive flock on <data_dir>/companion.lock,
// held for the life of the process, with the holder's pid written in the file. Two bots on one
// folder fight over getUpdates, and the second's resume declares the first one's paid jobs lost;
// the second instance must stop at start instead, naming the pid that holds the folder.
//
// The lock belongs to the open file description, so the kernel releases it when the process
// ends, however it ends (kill -9 included): a stale file never blocks a restart. The file itself
// stays behind on purpose: unlinking it at exit would let a third process lock a new file while
// a second still holds the old one.
#pragma once

#include <boost/system/result.hpp>

#include <filesystem>
#include <string>

namespace companion::app {

class instance_lock {
public:
    /// The lock file's name inside the data folder.
    static constexpr const char* file_name = "companion.lock";

    /// Takes the lock on `data_dir` (which must exist) without waiting. Error: one line for an
    /// operator, naming the folder and the holder's pid ("... is in use by another companion-bot
    /// (pid 1234) ..."), or why the file could not be opened.
    static boost::system::result<instance_lock, std::string> acquire(const std::filesystem::path& data_dir);

    instance_lock(instance_lock&& other) noexcept;
    instance_lock& operator=(instance_lock&& other) noexcept;
    instance_lock(const instance_lock&) = delete;
    instance_lock& operator=(const instance_lock&) = delete;
    ~instance_lock();

    /// Releases the lock now (the destructor does it otherwise).
    void release() noexcept;
    bool held() const noexcept { return fd_ >= 0; }
    const std::filesystem::path& path() const noexcept { return path_; }
    /// False when the pid could not be written (a full disk): the lock holds all the same.
    bool pid_written() const noexcept { return pid_written_; }

private:
    instance_lock(int fd, std::filesystem::path path, bool pid_written) noexcept
        : fd_(fd), path_(std::move(path)), pid_written_(pid_written) {}

    int fd_ = -1;
    std::filesystem::path path_;
    bool pid_written_ = false;
};

} // namespace companion::app
