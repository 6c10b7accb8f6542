// fal's queue API: error classification, the readers of its answers, and the exchanges.
#include "net/fal/queue.hpp"

#include "engine/log.hpp"
#include "net/detail/client_support.hpp"
#include "net/url.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace companion::net::fal {
namespace {

constexpr std::string_view api_name = "fal";

bool contains(std::string_view text, std::string_view word) {
    return text.find(word) != std::string_view::npos;
}

std::string lower(std::string_view text) {
    return boost::algorithm::to_lower_copy(std::string(text));
}

/// A `detail` list entry's text: its `msg`.
std::string entry_message(const boost::json::value& entry) {
    if (!entry.is_object()) {
        return detail::json_text(&entry);
    }
    return detail::json_text(entry.as_object().if_contains("msg"));
}

bool is_content_policy(const boost::json::value& entry) {
    if (!entry.is_object()) {
        return false;
    }
    const auto type = lower(detail::json_text(entry.as_object().if_contains("type")));
    const auto msg = lower(entry_message(entry));
    return contains(type, "content_policy") || contains(msg, "content checker") || contains(msg, "flagged");
}

std::optional<boost::json::object> json_object(std::string_view body) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    return std::move(v.as_object());
}

api_error malformed(unsigned status, std::string_view what) {
    return net::malformed_response(api_name, {}, status, what);
}

api_error from_failure(const net::failure& f) {
    return net::transport_error(api_name, {}, f);
}

std::string text_of(const boost::json::object& o, std::string_view key) {
    return detail::json_text(o.if_contains(key));
}

} // namespace

std::vector<std::string> flagged_fields(std::string_view body) {
    std::vector<std::string> out;
    const auto o = json_object(body);
    if (!o) {
        return out;
    }
    const auto* d = o->if_contains("detail");
    if (d == nullptr || !d->is_array()) {
        return out;
    }
    for (const auto& entry : d->as_array()) {
        if (!is_content_policy(entry)) {
            continue;
        }
        const auto* loc = entry.as_object().if_contains("loc");
        if (loc == nullptr || !loc->is_array() || loc->as_array().empty()) {
            continue;
        }
        std::string field = detail::json_text(&loc->as_array().back());
        if (!field.empty() && field != "body" && std::find(out.begin(), out.end(), field) == out.end()) {
            out.push_back(std::move(field));
        }
    }
    return out;
}

api_error parse_error(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    api_error e;
    e.api = std::string(api_name);
    e.status = status < 400 ? 502 : status;
    e.request_id = detail::header_value(headers, "x-fal-request-id");
    bool refusal = false;
    if (const auto o = json_object(body)) {
        const auto* d = o->if_contains("detail");
        if (d != nullptr && d->is_array()) {
            std::string joined;
            for (const auto& entry : d->as_array()) {
                refusal = refusal || is_content_policy(entry);
                if (entry.is_object() && e.code.empty()) {
                    e.code = text_of(entry.as_object(), "type");
                }
                const auto msg = entry_message(entry);
                if (!msg.empty()) {
                    joined += (joined.empty() ? "" : "; ") + msg;
                }
            }
            e.detail = net::redacted_text(joined);
        } else if (d != nullptr) {
            e.detail = net::redacted_text(detail::json_text(d));
        } else {
            e.detail = net::redacted_text(text_of(*o, "error"));
        }
    } else {
        e.detail = net::redacted_text(body.substr(0, 200));
    }
    const auto text = lower(e.detail);
    if (refusal) {
        e.kind = api_error_kind::bad_request;
        e.code = "content_policy_violation";
        std::string fields;
        for (const auto& f : flagged_fields(body)) {
            fields += (fields.empty() ? "" : ", ") + f;
        }
        e.detail = "flagged by a content checker: " + (fields.empty() ? std::string("output") : fields);
    } else if (contains(text, "exhausted balance") || contains(text, "user is locked") || e.status == 402) {
        e.kind = api_error_kind::quota_exhausted;
    } else if (e.status == 429) {
        e.kind = api_error_kind::rate_limited;
    } else if (e.status == 401 || e.status == 403) {
        e.kind = api_error_kind::unauthorized;
    } else if (e.status == 404) {
        e.kind = api_error_kind::not_found;
    } else if (e.status >= 500 || e.status == 408 || e.status == 409) {
        e.kind = api_error_kind::server;
    } else {
        e.kind = api_error_kind::bad_request;
    }
    if (e.kind == api_error_kind::rate_limited || e.kind == api_error_kind::server) {
        if (auto s = detail::parse_non_negative(detail::header_value(headers, "retry-after"))) {
            e.retry_after = detail::wait_hint(*s * 1000);
        }
    }
    return e;
}

result<queue_ticket> parse_submit(unsigned status,
                                  std::string_view body,
                                  const boost::beast::http::fields& headers,
                                  std::string_view queue_base_url) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    const auto o = json_object(body);
    if (!o) {
        return malformed(status, "submit answer is not a JSON object");
    }
    queue_ticket t;
    t.request_id = text_of(*o, "request_id");
    t.status_url = text_of(*o, "status_url");
    t.response_url = text_of(*o, "response_url");
    t.cancel_url = text_of(*o, "cancel_url");
    if (t.request_id.empty() || t.status_url.empty() || t.response_url.empty()) {
        return malformed(status, "submit answer without request_id, status_url or response_url");
    }
    const auto base = net::parse_url(queue_base_url);
    for (const auto* url : {&t.status_url, &t.response_url, &t.cancel_url}) {
        if (url->empty()) {
            continue; // cancel_url is optional: cancelling is best effort
        }
        const auto u = net::parse_url(*url);
        if (!base || !u || !(u->where == base->where)) {
            return malformed(status, "submit answer names a URL off the queue's origin");
        }
    }
    return t;
}

result<queue_status>
parse_status(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    const auto o = json_object(body);
    if (!o) {
        return malformed(status, "status answer is not a JSON object");
    }
    queue_status s;
    s.raw = text_of(*o, "status");
    if (s.raw == "IN_QUEUE") {
        s.state = queue_state::in_queue;
    } else if (s.raw == "IN_PROGRESS") {
        s.state = queue_state::in_progress;
    } else if (s.raw == "COMPLETED") {
        s.state = queue_state::completed;
    } else {
        return malformed(status, "unknown queue status '" + net::redacted_text(s.raw, 40) + "'");
    }
    if (auto n = detail::json_int(o->if_contains("queue_position")); n && *n >= 0) {
        s.queue_position = static_cast<int>(std::min<std::int64_t>(*n, 1'000'000));
    }
    return s;
}

result<video_output>
parse_video_output(unsigned status, std::string_view body, const boost::beast::http::fields& headers) {
    if (status < 200 || status >= 300) {
        return parse_error(status, body, headers);
    }
    const auto o = json_object(body);
    if (!o) {
        return malformed(status, "result is not a JSON object");
    }
    const auto* v = o->if_contains("video");
    if (v == nullptr || !v->is_object()) {
        // Some endpoints answer an error object inside a 200.
        if (o->contains("detail") || o->contains("error")) {
            return parse_error(502, body, headers);
        }
        return malformed(status, "result without a video");
    }
    video_output out;
    out.url = text_of(v->as_object(), "url");
    out.content_type = text_of(v->as_object(), "content_type");
    out.file_size = detail::json_int(v->as_object().if_contains("file_size"));
    const auto u = net::parse_url(out.url);
    if (!u) {
        return malformed(status, "result's video url is not an http(s) URL");
    }
    return out;
}

boost::system::result<std::string, std::string> request_body(const request_template& t,
                                                             std::string_view prompt,
                                                             std::string_view image_data_uri,
                                                             int seconds) {
    boost::json::object body;
    if (!t.extra_json.empty()) {
        boost::system::error_code ec;
        auto extra = boost::json::parse(t.extra_json, ec);
        if (ec || !extra.is_object()) {
            return {boost::system::in_place_error, "extra fields must be a JSON object"};
        }
        body = std::move(extra.as_object());
    }
    std::vector<std::string_view> own{"prompt", t.duration_field};
    if (!image_data_uri.empty()) {
        own.push_back(t.image_field);
    }
    if (!t.aspect_field.empty()) {
        own.push_back(t.aspect_field);
    }
    for (const auto field : own) {
        if (field.empty()) {
            return {boost::system::in_place_error, "a field name is empty"};
        }
        if (body.contains(field)) {
            return {boost::system::in_place_error,
                    "extra fields set '" + std::string(field) + "', which the template writes itself"};
        }
    }
    body["prompt"] = prompt;
    if (!image_data_uri.empty()) {
        body[t.image_field] = image_data_uri;
    }
    switch (t.duration) {
    case duration_format::string:
        body[t.duration_field] = std::to_string(seconds);
        break;
    case duration_format::number:
        body[t.duration_field] = seconds;
        break;
    case duration_format::string_seconds:
        body[t.duration_field] = std::to_string(seconds) + "s";
        break;
    }
    if (!t.aspect_field.empty()) {
        body[t.aspect_field] = t.aspect_ratio;
    }
    return {boost::system::in_place_value, boost::json::serialize(body)};
}

std::string to_text(const queue_ticket& t) {
    return boost::json::serialize(boost::json::object{{"request_id", t.request_id},
                                                      {"status_url", t.status_url},
                                                      {"response_url", t.response_url},
                                                      {"cancel_url", t.cancel_url}});
}

result<queue_ticket> ticket_from_text(std::string_view text) {
    const auto o = json_object(text);
    if (!o) {
        return net::invalid_request(api_name, {}, "the stored job id is not a fal queue ticket");
    }
    queue_ticket t;
    t.request_id = text_of(*o, "request_id");
    t.status_url = text_of(*o, "status_url");
    t.response_url = text_of(*o, "response_url");
    t.cancel_url = text_of(*o, "cancel_url");
    if (t.status_url.empty() || t.response_url.empty()) {
        return net::invalid_request(api_name,
                                    {},
                                    "the stored fal queue ticket has no status or response URL");
    }
    return t;
}

queue_client::queue_client(net::http_client& http, queue_config cfg) : http_(http), cfg_(std::move(cfg)) {
    cfg_.base_url = detail::client_base_url(std::move(cfg_.base_url), cfg_.api_key);
}

net::request queue_client::make_request(http::verb method, std::string url) const {
    auto r = detail::api_request(method, std::move(url), cfg_);
    if (!cfg_.api_key.empty()) {
        r.headers.set(http::field::authorization, "Key " + cfg_.api_key);
    }
    r.headers.set(http::field::accept, "application/json");
    return r;
}

bool queue_client::on_queue_origin(std::string_view url) const {
    const auto base = net::parse_url(cfg_.base_url);
    const auto u = net::parse_url(url);
    return base && u && u->where == base->where;
}

engine::awaitable<result<queue_ticket>> queue_client::submit(std::string endpoint_id,
                                                             std::string input_json) {
    if (endpoint_id.empty() || endpoint_id.front() == '/' || contains(endpoint_id, "..") ||
        contains(endpoint_id, "?") || contains(endpoint_id, "#")) {
        co_return net::invalid_request(api_name,
                                       {},
                                       "endpoint id '" + endpoint_id + "' is not owner/alias/path");
    }
    auto r = make_request(http::verb::post, cfg_.base_url + "/" + endpoint_id);
    r.headers.set(http::field::content_type, "application/json");
    if (cfg_.output_retention.count() > 0) {
        r.headers.set("x-fal-object-lifecycle-preference",
                      "{\"expiration_duration_seconds\": " + std::to_string(cfg_.output_retention.count()) +
                          "}");
    }
    r.body = std::move(input_json);
    r.replayable = net::replay::unsafe;
    auto sent = co_await http_.send(std::move(r));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_submit(sent->status, sent->body, sent->headers, cfg_.base_url);
}

engine::awaitable<result<queue_status>> queue_client::status(const queue_ticket& t) {
    if (!on_queue_origin(t.status_url)) {
        co_return net::invalid_request(api_name, {}, "status_url is not on the configured queue origin");
    }
    auto sent = co_await http_.send(make_request(http::verb::get, t.status_url));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_status(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<video_output>> queue_client::output(const queue_ticket& t) {
    if (!on_queue_origin(t.response_url)) {
        co_return net::invalid_request(api_name, {}, "response_url is not on the configured queue origin");
    }
    auto sent = co_await http_.send(make_request(http::verb::get, t.response_url));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    co_return parse_video_output(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<void>> queue_client::probe(std::string endpoint_id) {
    const auto first = endpoint_id.find('/');
    const auto second = first == std::string::npos ? std::string::npos : endpoint_id.find('/', first + 1);
    const std::string alias = endpoint_id.substr(0, second);
    if (first == std::string::npos || first == 0 || first + 1 == alias.size() || contains(alias, "..") ||
        contains(alias, "?") || contains(alias, "#")) {
        co_return net::invalid_request(api_name,
                                       {},
                                       "endpoint id '" + endpoint_id + "' is not owner/alias/path");
    }
    auto sent = co_await http_.send(
        make_request(http::verb::get,
                     cfg_.base_url + "/" + alias + "/requests/00000000-0000-0000-0000-000000000000/status"));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    if (sent->status == 404 || sent->ok()) {
        co_return result<void>{};
    }
    co_return parse_error(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<bool>> queue_client::cancel(const queue_ticket& t) {
    if (t.cancel_url.empty() || !on_queue_origin(t.cancel_url)) {
        co_return net::invalid_request(api_name, {}, "cancel_url is missing or not on the queue origin");
    }
    auto sent = co_await http_.send(make_request(http::verb::put, t.cancel_url));
    if (!sent) {
        co_return from_failure(sent.error());
    }
    if (sent->ok()) {
        co_return true;
    }
    if (sent->status == 400 && contains(sent->body, "ALREADY_COMPLETED")) {
        co_return false;
    }
    co_return parse_error(sent->status, sent->body, sent->headers);
}

engine::awaitable<result<net::download_result>> queue_client::download(const video_output& out,
                                                                       std::filesystem::path path) {
    net::download_request d;
    d.url = out.url;
    d.headers.set(http::field::accept, "video/mp4, video/*");
    d.path = std::move(path);
    d.max_bytes = cfg_.max_download_bytes;
    auto t = detail::call_timeouts(cfg_.connect_timeout, cfg_.response_timeout, cfg_.download_timeout);
    d.timeouts = t;
    auto got = co_await http_.download(std::move(d));
    if (!got) {
        const auto& f = got.error();
        if (f.code == net::errc::http_status && f.status != 0) {
            auto e = parse_error(f.status, f.body, {});
            if (f.status == 403 || f.status == 410) {
                e.kind = api_error_kind::not_found; // a signed CDN URL past its life: the file is gone
            }
            co_return e;
        }
        co_return from_failure(f);
    }
    co_return std::move(*got);
}

} // namespace companion::net::fal
