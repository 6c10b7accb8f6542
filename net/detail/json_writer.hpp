// Writing a JSON document straight into a string, without building a DOM of it first (issue 16:
// a chat completion's body carried the whole conversation through a boost::json::object, every
// turn copied into it and then serialized out again). The text is byte for byte what
// boost::json::serialize writes for the same document: strings are escaped as its serializer
// escapes them, doubles and whole values are written by that serializer. The caller writes a well-formed
// document (keys only inside objects, every open closed); the writer places the commas and colons. Internal
// to net/ (its clients, their tests and the fuzz targets).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace companion::net::detail {

class json_writer {
public:
    /// Appends to `out`, which must outlive the writer.
    explicit json_writer(std::string& out) noexcept : out_(out) {}

    json_writer& begin_object() { return open('{'); }
    json_writer& end_object() { return close('}'); }
    json_writer& begin_array() { return open('['); }
    json_writer& end_array() { return close(']'); }
    json_writer& key(std::string_view k);

    json_writer& string(std::string_view s);
    json_writer& number(std::int64_t n);
    json_writer& number(double d);
    json_writer& boolean(bool b);
    /// Any value, written as boost::json::serialize writes it.
    json_writer& value(const boost::json::value& v);
    json_writer& value(const boost::json::object& o);

    /// key(k) then string(s), and the like.
    json_writer& field(std::string_view k, std::string_view s) { return key(k).string(s); }
    json_writer& field(std::string_view k, std::int64_t n) { return key(k).number(n); }

private:
    json_writer& open(char bracket);
    json_writer& close(char bracket);
    void separate();
    /// Drains the serializer, reset to one value, into out_: the value is written.
    json_writer& drain();

    std::string& out_;
    boost::json::serializer sr_{};
    bool comma_ = false; ///< a value came last at this level: the next key or value needs a ','
};

} // namespace companion::net::detail
