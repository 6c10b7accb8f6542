// multipart/form-data encoding (uploads: Telegram sendPhoto/sendVideo, OpenAI videos create) and
// parsing (the simulators and webhook receivers), plus application/x-www-form-urlencoded parsing.
#pragma once

#include "net/error.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace companion::net {

struct multipart_part {
    std::string name;
    std::string filename;     ///< empty for plain fields
    std::string content_type; ///< empty for plain fields
    std::string data;
};

class multipart_form {
public:
    /// Uses a random boundary that cannot occur in the parts (checked when encoding).
    multipart_form();

    multipart_form& field(std::string_view name, std::string_view value);
    multipart_form&
    file(std::string_view name, std::string_view filename, std::string_view content_type, std::string data);
    /// Reads `path` into a file part. Errors: errc::file_error.
    result<void>
    file_from_disk(std::string_view name, const std::filesystem::path& path, std::string_view content_type);

    /// "multipart/form-data; boundary=..."
    std::string content_type() const;
    /// The encoded body. Leaves the form empty.
    std::string take_body();
    const std::vector<multipart_part>& parts() const noexcept { return parts_; }

private:
    std::string boundary_;
    std::vector<multipart_part> parts_;
};

/// The boundary parameter of a multipart/form-data Content-Type, if any.
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// Parses a multipart/form-data body. Errors: errc::malformed_body with what was wrong.
result<std::vector<multipart_part>> parse_multipart(std::string_view body, std::string_view boundary);

/// Parses "a=1&b=x%20y" (also a query string); '+' means space.
result<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text);

/// Percent-decodes; false on a malformed escape.
bool url_decode(std::string_view in, std::string& out, bool plus_is_space);

} // namespace companion::net
