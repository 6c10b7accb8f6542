// A getUpdates answer that does not parse as a whole must not wedge polling for every user. One
// update whose text holds invalid UTF-8 or an unpaired UTF-16 surrogate escape (`\udc80`, passed
// through from a client) makes the whole body invalid JSON, and retrying returns the same body
// forever. The scan here cuts the envelope's `result` array into its items by structure alone
// (strings and nesting, nothing else), parses each item on its own, repairs an item whose only
// fault is its text (invalid bytes and unpaired surrogates become U+FFFD) and parses it again,
// and reports an item that still fails as malformed with the update_id read from its text, so the
// offset moves past it and the others are served.
#pragma once

#include "net/telegram/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace companion::net::telegram {

/// The text of each item of a getUpdates body's `result` array, cut by structure alone; nullopt
/// unless the body is an object with `"ok":true` and one `result` array the cut can delimit (a
/// second `result` member is refused). The cut does not validate the items: a body the JSON
/// parser read whole gets from it each update's text as received, for update::raw, without
/// writing the DOM out again (issue 16).
std::optional<std::vector<std::string_view>> result_items(std::string_view body);

/// The updates of a getUpdates body that failed to parse as a whole; nullopt when the body is
/// not a success envelope (`"ok":true`) with a `result` array the scan can delimit.
std::optional<update_batch> scan_updates(std::string_view body);

/// `json_text` with every invalid UTF-8 sequence and every unpaired `\uD800`-`\uDFFF` escape
/// inside a string replaced by U+FFFD; everything else byte for byte.
std::string repair_json_text(std::string_view json_text);

} // namespace companion::net::telegram
