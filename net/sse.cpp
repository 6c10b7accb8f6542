// The server-sent events parser: line splitting across feeds, fields, dispatch and the size limit.
#include "net/sse.hpp"

#include <algorithm>

namespace companion::net {
namespace {

constexpr std::string_view bom = "\xEF\xBB\xBF";

} // namespace

result<void> sse_parser::too_large() const {
    return make_failure(errc::body_too_large,
                        "a server-sent event exceeds " + std::to_string(max_event_bytes_) + " bytes");
}

void sse_parser::line(std::string_view text, void* context, callback cb) {
    if (text.empty()) {
        // Dispatch: an event without data is no event (its type is dropped with it).
        if (!data_.empty()) {
            data_.pop_back(); // the '\n' after the last data line
            out_.event = event_type_.empty() ? "message" : std::move(event_type_);
            out_.data = std::move(data_);
            out_.id = last_id_;
            data_.clear();
            event_type_.clear();
            cb(context, out_);
        }
        event_type_.clear();
        return;
    }
    if (text.front() == ':') {
        return; // a comment (keep-alives, OpenRouter's processing notes)
    }
    const auto colon = text.find(':');
    const std::string_view field = text.substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
        value = text.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
    }
    if (field == "data") {
        data_.append(value);
        data_.push_back('\n');
    } else if (field == "event") {
        event_type_.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) {
            last_id_.assign(value);
        }
    }
    // "retry" and unknown fields are ignored.
}

result<void> sse_parser::feed_impl(std::string_view bytes, void* context, callback cb) {
    if (failed_) {
        return too_large();
    }
    // The stream's first bytes may be a BOM, possibly split across feeds: hold them until it is
    // clear, then either drop them or parse them as the text they are.
    std::string held;
    if (bom_checked_ < bom.size()) {
        while (bom_checked_ < bom.size() && !bytes.empty()) {
            if (bytes.front() != bom[bom_checked_]) {
                held = std::move(bom_prefix_);
                bom_checked_ = bom.size();
                break;
            }
            bom_prefix_.push_back(bytes.front());
            bytes.remove_prefix(1);
            ++bom_checked_;
        }
        if (bom_checked_ < bom.size()) {
            return {}; // all of it still looks like the start of a BOM
        }
        bom_prefix_.clear();
        bom_prefix_.shrink_to_fit();
    }

    const auto scan = [&](std::string_view input) -> bool {
        while (!input.empty()) {
            if (skip_lf_) {
                skip_lf_ = false;
                if (input.front() == '\n') {
                    input.remove_prefix(1);
                    continue;
                }
            }
            const auto end = input.find_first_of("\r\n");
            if (end == std::string_view::npos) {
                partial_.append(input);
                return partial_.size() + data_.size() <= max_event_bytes_;
            }
            skip_lf_ = input[end] == '\r';
            if (partial_.empty()) {
                if (end + data_.size() > max_event_bytes_) {
                    return false;
                }
                line(input.substr(0, end), context, cb);
            } else {
                partial_.append(input.substr(0, end));
                if (partial_.size() + data_.size() > max_event_bytes_) {
                    return false;
                }
                line(partial_, context, cb);
                partial_.clear();
            }
            if (data_.size() > max_event_bytes_) {
                return false;
            }
            input.remove_prefix(end + 1);
        }
        return true;
    };
    if (!scan(held) || !scan(bytes)) {
        failed_ = true;
        partial_.clear();
        data_.clear();
        return too_large();
    }
    return {};
}

std::optional<sse_event> sse_parser::finish() {
    std::optional<sse_event> out;
    if (!failed_) {
        if (bom_checked_ < bom.size() && !bom_prefix_.empty()) {
            partial_ = std::move(bom_prefix_); // a stream of one or two bytes that began like a BOM
        }
        if (!partial_.empty()) {
            line(partial_, nullptr, [](void*, const sse_event&) {}); // not blank: it dispatches nothing
        }
        if (!data_.empty()) {
            data_.pop_back();
            out = sse_event{.event = event_type_.empty() ? "message" : event_type_,
                            .data = std::move(data_),
                            .id = last_id_};
        }
    }
    *this = sse_parser(max_event_bytes_);
    return out;
}

} // namespace companion::net
