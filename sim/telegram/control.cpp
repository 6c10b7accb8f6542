// The control API under /_sim/: the scripted-user API over HTTP for programs in other processes
// (the benchmarks, third-party bots' tests). Bodies are JSON objects (query parameters also work);
// answers are {"ok":true,...} or {"ok":false,"error":"..."} with 404 for an unknown endpoint and
// 400 for a request the world refuses (an unknown user, a message that is not there).
#include "sim/telegram/detail/state.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace companion::sim {

using namespace telegram_detail;

namespace {

net::server_response control_ok(json::object fields = {}) {
    fields["ok"] = true;
    return net::json_response(200, json::serialize(fields));
}

net::server_response control_error(unsigned status, std::string_view error) {
    return net::json_response(status, json::serialize(json::object{{"ok", false}, {"error", error}}));
}

std::vector<std::string> strings_of(const std::optional<json::value>& v) {
    std::vector<std::string> out;
    if (!v) {
        return out;
    }
    if (const auto* s = v->if_string()) {
        out.emplace_back(*s);
    } else if (const auto* a = v->if_array()) {
        for (const auto& item : *a) {
            if (item.is_string()) {
                out.emplace_back(item.get_string());
            }
        }
    }
    return out;
}

std::vector<std::int64_t> integers_of(const std::optional<json::value>& v) {
    std::vector<std::int64_t> out;
    if (v && v->is_array()) {
        for (const auto& item : v->get_array()) {
            if (item.is_int64()) {
                out.push_back(item.get_int64());
            }
        }
    }
    return out;
}

} // namespace

engine::awaitable<net::server_response> telegram_simulator::handle_control(net::server_request& req) {
    const std::string_view path = req.path();
    json::object body;
    if (!req.msg.body().empty()) {
        boost::system::error_code ec;
        auto v = json::parse(req.msg.body(), ec);
        if (ec || !v.is_object()) {
            co_return control_error(400, "body must be a JSON object");
        }
        body = std::move(v.as_object());
    }
    if (auto q = net::parse_form(req.query())) {
        for (auto& [k, v] : *q) {
            body[k] = v;
        }
    }
    call args; // reuses the lenient parameter accessors
    args.params = std::move(body);
    const auto user_id = args.integer("user_id").value_or(0);
    const auto chat_id = args.integer("chat_id").value_or(0);
    const bool known_user = find_chat(user_id) != nullptr && find_chat(user_id)->type == "private";

    if (path == "/_sim/sent") {
        const auto from =
            static_cast<std::size_t>(std::max<std::int64_t>(0, args.integer("from").value_or(0)));
        const auto wait_ms = std::clamp<std::int64_t>(args.integer("wait_ms").value_or(0), 0, 60000);
        if (wait_ms > 0) {
            auto any = [](const sent_item&) { return true; };
            // The answer lists whatever is there after the wait, found or not.
            [[maybe_unused]] auto waited =
                co_await wait_for(chat_id, any, std::chrono::milliseconds(wait_ms), from);
        }
        json::array items;
        const auto all = sent_to(chat_id);
        for (std::size_t i = from; i < all.size(); ++i) {
            items.push_back(sent_item_json(all[i]));
        }
        co_return control_ok({{"items", std::move(items)}});
    }
    if (path == "/_sim/counters") {
        json::object per_chat;
        for (const auto& [chat, n] : counters_.sends_per_chat) {
            per_chat[std::to_string(chat)] = n;
        }
        co_return control_ok({
            {"requests", counters_.requests},
            {"get_updates_calls", counters_.get_updates_calls},
            {"rate_limited", counters_.rate_limited},
            {"conflicts", counters_.conflicts},
            {"retry_after_violations", counters_.retry_after_violations},
            {"resets_after_effect", counters_.resets_after_effect},
            {"current_pollers", counters_.current_pollers},
            {"max_concurrent_pollers", counters_.max_concurrent_pollers},
            {"pending_updates", pending_.size()},
            {"sends_per_chat", std::move(per_chat)},
        });
    }
    if (path == "/_sim/methods") {
        json::array methods;
        for (auto m : implemented_methods()) {
            methods.emplace_back(m);
        }
        co_return control_ok({{"methods", std::move(methods)}});
    }
    if (path == "/_sim/users") {
        telegram_sim_user u;
        u.id = args.integer("id").value_or(0);
        u.first_name = args.str("first_name").value_or("User");
        u.last_name = args.str("last_name").value_or("");
        u.language_code = args.str("language_code").value_or("en");
        u.username = args.str("username").value_or("");
        co_return control_ok({{"id", add_user(std::move(u))}});
    }
    if (path == "/_sim/groups") {
        const auto id =
            add_group(args.str("title").value_or("Group"), integers_of(args.structured("members")));
        co_return control_ok({{"id", id}});
    }
    if (path == "/_sim/raw_update") {
        const auto id = inject_raw_update(args.str("text").value_or("{\"update_id\":$ID}"),
                                          {.assign_id = !args.has("assign_id") || args.flag("assign_id")});
        co_return control_ok({{"update_id", id}});
    }

    if (path == "/_sim/drafts") {
        json::array items;
        for (const auto& d : drafts(chat_id)) {
            json::object o{
                {"chat_id", d.chat_id},
                {"draft_id", d.draft_id},
                {"text", d.text},
                {"can_stop", d.can_stop},
                {"keep_on_stop", d.keep_on_stop},
                {"at_ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(d.at.time_since_epoch()).count()}};
            if (d.message_thread_id) {
                o["message_thread_id"] = *d.message_thread_id;
            }
            items.push_back(std::move(o));
        }
        co_return control_ok({{"drafts", std::move(items)}, {"open", draft_open(chat_id)}});
    }
    if (path == "/_sim/stop") {
        try {
            co_return control_ok(
                {{"update_id",
                  press_stop(chat_id != 0 ? chat_id : user_id, args.integer("draft_id").value_or(0))}});
        } catch (const std::invalid_argument& e) {
            co_return control_error(400, e.what());
        }
    }

    // Everything below is something a user does.
    if (!known_user) {
        co_return control_error(404, "unknown user");
    }
    try {
        if (path == "/_sim/text") {
            co_return control_ok({{"update_id",
                                   user_sends(user_id,
                                              {.text = args.str("text").value_or(""),
                                               .chat_id = chat_id,
                                               .reply_to = args.integer("reply_to").value_or(0)})}});
        }
        if (path == "/_sim/send") {
            const auto kind = user_message_kind_from(args.str("kind").value_or("text"));
            if (!kind) {
                co_return control_error(400, "unknown message kind");
            }
            user_message m{.what = *kind,
                           .text = args.str("text").value_or(""),
                           .chat_id = chat_id,
                           .reply_to = args.integer("reply_to").value_or(0),
                           .file_name = args.str("file_name").value_or(""),
                           .options = strings_of(args.structured("options"))};
            if (const auto* lat = args.params.if_contains("latitude"); lat != nullptr && lat->is_number()) {
                m.latitude = lat->to_number<double>();
            }
            if (const auto* lon = args.params.if_contains("longitude"); lon != nullptr && lon->is_number()) {
                m.longitude = lon->to_number<double>();
            }
            const auto update = user_sends(user_id, std::move(m));
            co_return control_ok(
                {{"update_id", update}, {"message_id", last_user_message(user_id, chat_id)}});
        }
        if (path == "/_sim/edit") {
            co_return control_ok({{"update_id",
                                   user_edits_message(user_id,
                                                      args.integer("message_id").value_or(0),
                                                      args.str("text").value_or(""),
                                                      chat_id)}});
        }
        if (path == "/_sim/react") {
            co_return control_ok(
                {{"update_id",
                  user_reacts(user_id,
                              args.integer("message_id").value_or(0),
                              strings_of(args.params.contains("emoji")
                                             ? std::optional<json::value>(args.params.at("emoji"))
                                             : std::nullopt),
                              chat_id)}});
        }
        if (path == "/_sim/press") {
            const auto id = user_presses_button(user_id,
                                                chat_id,
                                                args.integer("message_id").value_or(0),
                                                args.str("data").value_or(""));
            co_return control_ok({{"callback_query_id", id}});
        }
        if (path == "/_sim/press_inline") {
            const auto id = press_inline_button(user_id,
                                                args.str("inline_message_id").value_or(""),
                                                args.str("data").value_or(""));
            co_return control_ok({{"callback_query_id", id}});
        }
        if (path == "/_sim/inline") {
            co_return control_ok(
                {{"inline_query_id", user_queries_inline(user_id, args.str("query").value_or(""))}});
        }
        if (path == "/_sim/block") {
            user_blocks_bot(user_id, !args.has("blocked") || args.flag("blocked"));
            co_return control_ok();
        }
        if (path == "/_sim/join" || path == "/_sim/leave") {
            if (path == "/_sim/join") {
                user_joins_group(user_id, chat_id);
            } else {
                user_leaves_group(user_id, chat_id);
            }
            co_return control_ok();
        }
        if (path == "/_sim/pay") {
            co_return control_ok(
                {{"pre_checkout_query_id", user_pays(user_id, args.integer("message_id").value_or(0))}});
        }
    } catch (const std::invalid_argument& e) {
        co_return control_error(400, e.what());
    }
    co_return control_error(404, "unknown simulator endpoint");
}

} // namespace companion::sim
