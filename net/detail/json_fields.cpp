// The streamed field reader: a basic_parser handler that keeps only the keys on the way to a
// wanted scalar and the text of a string split across pieces.
#include "net/detail/json_fields.hpp"

#include "net/detail/client_support.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>

#include <limits>

namespace companion::net::detail {
namespace {

namespace json = boost::json;
using json::error_code;
using json::string_view;

class field_handler {
public:
    static constexpr std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
    static constexpr std::size_t max_string_size = std::numeric_limits<std::size_t>::max();

    explicit field_handler(json_field_visitor visit) : visit_(visit) {}

    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }

    bool on_object_begin(error_code&) {
        if (depth_ > 0) {
            open(json_scalar::kind::object);
        }
        ++depth_;
        if (depth_ == 2) {
            inner_is_object_ = true;
        }
        return true;
    }
    bool on_object_end(std::size_t, error_code&) {
        --depth_;
        return true;
    }
    bool on_array_begin(error_code& ec) {
        if (depth_ == 0) {
            ec = json::error::not_object;
            return false;
        }
        open(json_scalar::kind::array);
        ++depth_;
        if (depth_ == 2) {
            inner_is_object_ = false;
        }
        return true;
    }
    bool on_array_end(std::size_t, error_code&) {
        --depth_;
        return true;
    }

    bool on_key_part(string_view s, std::size_t, error_code&) {
        if (depth_ <= 2) {
            key_buffer().append(s.data(), s.size());
        }
        return true;
    }
    bool on_key(string_view s, std::size_t, error_code&) {
        if (depth_ <= 2) {
            key_buffer().append(s.data(), s.size());
        }
        return true;
    }

    bool on_string_part(string_view s, std::size_t, error_code&) {
        if (wanted()) {
            text_.append(s.data(), s.size());
        }
        return true;
    }
    bool on_string(string_view s, std::size_t, error_code& ec) {
        if (!wanted()) {
            return scalar_outside(ec);
        }
        json_scalar v{.type = json_scalar::kind::string};
        if (text_.empty()) {
            v.text = std::string_view(s.data(), s.size()); // in one piece: no copy
        } else {
            text_.append(s.data(), s.size());
            v.text = text_;
        }
        emit(v);
        text_.clear();
        return true;
    }

    bool on_number_part(string_view, error_code&) { return true; }
    bool on_int64(std::int64_t i, string_view, error_code& ec) {
        return scalar(json_scalar{.type = json_scalar::kind::int64, .i = i}, ec);
    }
    bool on_uint64(std::uint64_t u, string_view, error_code& ec) {
        return scalar(json_scalar{.type = json_scalar::kind::uint64, .u = u}, ec);
    }
    bool on_double(double d, string_view, error_code& ec) {
        return scalar(json_scalar{.type = json_scalar::kind::number, .d = d}, ec);
    }
    bool on_bool(bool b, error_code& ec) {
        return scalar(json_scalar{.type = json_scalar::kind::boolean, .b = b}, ec);
    }
    bool on_null(error_code& ec) { return scalar(json_scalar{.type = json_scalar::kind::null}, ec); }
    bool on_comment_part(string_view, error_code&) { return true; }
    bool on_comment(string_view, error_code&) { return true; }

private:
    /// The key being read: the root's, or an inner object's.
    std::string& key_buffer() {
        if (depth_ == 1) {
            if (!key_done_) {
                key_.clear();
                key_done_ = true;
            }
            return key_;
        }
        if (!inner_key_done_) {
            inner_key_.clear();
            inner_key_done_ = true;
        }
        return inner_key_;
    }
    /// A value at this depth is one the visitor sees.
    bool wanted() const noexcept { return depth_ == 1 || (depth_ == 2 && inner_is_object_); }

    bool scalar(const json_scalar& v, error_code& ec) {
        if (!wanted()) {
            return scalar_outside(ec);
        }
        emit(v);
        return true;
    }
    /// A scalar as the whole document, or deeper than the visitor looks.
    bool scalar_outside(error_code& ec) {
        if (depth_ == 0) {
            ec = json::error::not_object;
            return false;
        }
        if (depth_ == 2) {
            inner_key_done_ = false; // an array's element: nothing to visit
        }
        return true;
    }
    void emit(const json_scalar& v) {
        if (depth_ == 1) {
            visit_(std::string_view(), key_, v);
            key_done_ = false;
        } else {
            visit_(key_, inner_key_, v);
            inner_key_done_ = false;
        }
    }
    /// An object or array opens as a value at `depth_`.
    void open(json_scalar::kind k) {
        if (depth_ == 1) {
            visit_(std::string_view(), key_, json_scalar{.type = k});
            key_done_ = false;
        } else if (depth_ == 2) {
            inner_key_done_ = false;
        }
    }

    json_field_visitor visit_;
    int depth_ = 0;
    bool inner_is_object_ = false;
    std::string key_;
    bool key_done_ = false; ///< key_ holds a whole key whose value has not come yet
    std::string inner_key_;
    bool inner_key_done_ = false;
    std::string text_;
};

} // namespace

std::string json_scalar::as_text() const {
    switch (type) {
    case kind::string:
        return std::string(text);
    case kind::int64:
    case kind::uint64:
    case kind::number:
        if (auto n = as_int()) {
            return std::to_string(*n);
        }
        return {};
    default:
        return {};
    }
}

std::optional<std::int64_t> json_scalar::as_int() const {
    switch (type) {
    case kind::int64:
        return i;
    case kind::uint64:
        return static_cast<std::int64_t>(u);
    case kind::number:
        return rounded_int(d);
    case kind::string: {
        const auto v = number_in_text(text);
        return v ? rounded_int(*v) : std::nullopt;
    }
    default:
        return std::nullopt;
    }
}

boost::system::error_code read_json_fields(std::string_view body, json_field_visitor visit) {
    json::basic_parser<field_handler> p(json::parse_options{}, visit);
    error_code ec;
    const std::size_t used = p.write_some(false, body.data(), body.size(), ec);
    if (!ec && used < body.size()) {
        ec = json::error::extra_data; // as boost::json::parse: one document and nothing after it
    }
    return ec;
}

} // namespace companion::net::detail
