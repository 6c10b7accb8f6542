// Tests of net/multipart and net/url: encoding round trips through the parser, malformed input,
// form encoding and URL parsing.
#include "net/multipart.hpp"
#include "net/url.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace companion::net;

BOOST_AUTO_TEST_SUITE(multipart_suite)

BOOST_AUTO_TEST_CASE(encoded_form_parses_back_to_the_same_parts) {
    multipart_form form;
    std::string binary("\x00\x01\r\n--not-a-boundary\xff", 22);
    form.field("chat_id", "412345678")
        .field("reply_markup", R"({"inline_keyboard":[[{"text":"🔁","callback_data":"video:again"}]]})")
        .file("video", "clip.mp4", "video/mp4", binary);
    const auto content_type = form.content_type();
    const auto body = form.take_body();
    const auto boundary = multipart_boundary(content_type);
    BOOST_TEST_REQUIRE(boundary.has_value());
    auto parts = parse_multipart(body, *boundary);
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST_REQUIRE(parts->size() == 3U);
    BOOST_TEST((*parts)[0].name == "chat_id");
    BOOST_TEST((*parts)[0].data == "412345678");
    BOOST_TEST((*parts)[1].data.find("video:again") != std::string::npos);
    BOOST_TEST((*parts)[2].filename == "clip.mp4");
    BOOST_TEST((*parts)[2].content_type == "video/mp4");
    BOOST_TEST((*parts)[2].data == binary);
}

BOOST_AUTO_TEST_CASE(contract_example_body_parses) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n123456789\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"supports_streaming\"\r\n\r\ntrue\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n"
        "Content-Type: video/mp4\r\n\r\nBINARY\r\n--XyZ--\r\n";
    auto parts = parse_multipart(body, "XyZ");
    BOOST_TEST_REQUIRE(parts.has_value());
    BOOST_TEST(parts->size() == 3U);
    BOOST_TEST((*parts)[2].data == "BINARY");
    BOOST_TEST(multipart_boundary("multipart/form-data; boundary=XyZ").value() == "XyZ");
    BOOST_TEST(multipart_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").value() == "a b");
    BOOST_TEST(!multipart_boundary("application/json").has_value());
}

BOOST_AUTO_TEST_CASE(malformed_multipart_is_a_typed_error_at_every_cut) {
    multipart_form form;
    form.field("a", "1").file("f", "x.png", "image/png", "PNGDATA");
    const auto boundary = *multipart_boundary(form.content_type());
    const auto body = form.take_body();
    // Every truncation of a valid body is either still valid (only the trailing CRLF is gone)
    // or rejected with malformed_body, never a crash.
    for (std::size_t cut = 0; cut + 4 < body.size(); ++cut) {
        auto parts = parse_multipart(std::string_view(body).substr(0, cut), boundary);
        BOOST_TEST_REQUIRE(!parts.has_value());
        BOOST_TEST((parts.error().code == make_error_code(errc::malformed_body)));
    }
    auto missing_name = parse_multipart("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b");
    BOOST_TEST(!missing_name.has_value());
}

BOOST_AUTO_TEST_CASE(form_encoding_decodes_plus_and_percent) {
    auto f = parse_form("chat_id=42&text=hello+w%C3%B6rld%21&empty=&flag");
    BOOST_TEST_REQUIRE(f.has_value());
    BOOST_TEST_REQUIRE(f->size() == 4U);
    BOOST_TEST((*f)[1].second == "hello wörld!");
    BOOST_TEST((*f)[2].second.empty());
    BOOST_TEST((*f)[3].first == "flag");
    BOOST_TEST(!parse_form("a=%G1").has_value());
    BOOST_TEST(!parse_form("a=%4").has_value());
}

BOOST_AUTO_TEST_CASE(urls_split_into_origin_and_target) {
    auto u = parse_url("https://api.telegram.org/bot123:abc/getMe?x=1");
    BOOST_TEST_REQUIRE(u.has_value());
    BOOST_TEST(u->where.tls);
    BOOST_TEST(u->where.host == "api.telegram.org");
    BOOST_TEST(u->where.port == 443);
    BOOST_TEST(u->target == "/bot123:abc/getMe?x=1");
    BOOST_TEST(u->where.host_header() == "api.telegram.org");
    auto l = parse_url("http://127.0.0.1:8081");
    BOOST_TEST_REQUIRE(l.has_value());
    BOOST_TEST(l->target == "/");
    BOOST_TEST(l->where.host_header() == "127.0.0.1:8081");
    BOOST_TEST(!parse_url("ftp://x/").has_value());
    BOOST_TEST(!parse_url("not a url").has_value());
    BOOST_TEST(url_encode("a b/ç") == "a%20b%2F%C3%A7");
}

BOOST_AUTO_TEST_CASE(a_url_cache_gives_what_a_full_parse_gives_on_known_and_new_origins) {
    // Each URL twice (the second time on a known origin), in an order that teaches the cache
    // its origins first; every answer must equal parse_url's.
    const std::vector<std::string> urls{
        "http://127.0.0.1:8081/v1/videos/video_1",
        "http://127.0.0.1:8081/v1/videos/video_2?x=1&y=%2F",
        "http://127.0.0.1:8081/v1/videos/a%zz",   // a bad escape
        "http://127.0.0.1:8081/v1/videos/a b",    // a space
        "http://127.0.0.1:8081/v1/videos/a#frag", // a fragment (dropped by the parse)
        "http://127.0.0.1:8081/p?",               // an empty query
        "http://127.0.0.1:80810/x",               // a longer port on the same prefix
        "http://127.0.0.1:8081?q=1",              // no path
        "https://api.telegram.org/bot123:abc/getMe?x=1",
        "https://api.telegram.org/bot123:abc/sendMessage",
        "http://[::1]:9000/x/y",
        "http://[::1]:9000/x/%41",
        "http://127.0.0.1:8081/v1/videos/\"quoted\"",
        "ftp://x/",
    };
    url_cache cache;
    for (int round = 0; round < 2; ++round) {
        for (const auto& url : urls) {
            BOOST_TEST_CONTEXT(url << " (round " << round << ")") {
                const auto full = parse_url(url);
                const auto cached = cache.parse(url);
                BOOST_TEST_REQUIRE(full.has_value() == cached.has_value());
                if (full) {
                    BOOST_TEST((full->where == cached->where));
                    BOOST_TEST(full->target == cached->target);
                } else {
                    BOOST_TEST((full.error().code == cached.error().code));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
