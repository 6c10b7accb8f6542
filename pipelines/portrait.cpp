// Her reference portrait.
#include "pipelines/portrait.hpp"

#include "engine/atomic_file.hpp"
#include "engine/log.hpp"

#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

namespace companion::pipelines {

namespace gm = net::gemini;

portrait_step portrait_plan::next(bool same_face, const state& s, engine::time_point now) noexcept {
    if (!same_face) {
        return portrait_step::none;
    }
    if (s.have) {
        return portrait_step::use;
    }
    if (s.drawing) {
        return portrait_step::wait;
    }
    if (s.retry_at && now < *s.retry_at) {
        return portrait_step::none;
    }
    return portrait_step::draw;
}

std::string portrait_prompt(const persona& p) {
    return "A photorealistic vertical head-and-shoulders portrait of " + p.name + ", a " +
           std::to_string(p.age) + "-year-old woman with " + p.look + ". She looks straight at the camera " +
           "with a soft, natural smile; plain light background, even daylight, realistic skin texture, no " +
           "text, no jewellery that hides the face. This is her reference photo: her face, hair and build " +
           "must be clearly visible.";
}

std::string same_face_instruction() {
    return "The input image is her reference photo. Keep the same woman: the same face, hair and build. "
           "Change only the place, clothes, pose and light as described.";
}

namespace {

struct image_kind {
    std::string_view extension;
    std::string_view mime;
};
constexpr std::array<image_kind, 4> image_kinds{{
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".webp", "image/webp"},
}};

std::string_view mime_of(const std::filesystem::path& file) {
    std::string ext = file.extension().string();
    for (auto& ch : ext) {
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    for (const auto& kind : image_kinds) {
        if (kind.extension == ext) {
            return kind.mime;
        }
    }
    return "image/png";
}

std::string_view extension_of(std::string_view mime) {
    for (const auto& kind : image_kinds) {
        if (kind.mime == mime) {
            return kind.extension;
        }
    }
    return ".png";
}

/// The file's bytes, or nullopt when it cannot be read or is empty. Blocks on the disk.
std::optional<std::string> read_whole(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        return std::nullopt;
    }
    return bytes.empty() ? std::nullopt : std::optional<std::string>(std::move(bytes));
}

/// A portrait drawn before, kept as `<id>.<ext>` in `folder`. Blocks on the disk.
std::optional<gm::inline_image> kept_portrait(const std::filesystem::path& folder, const std::string& id) {
    for (const auto& kind : image_kinds) {
        const auto file = folder / (id + std::string(kind.extension));
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            continue;
        }
        if (auto bytes = read_whole(file)) {
            return gm::inline_image{.mime_type = std::string(kind.mime), .bytes = std::move(*bytes)};
        }
    }
    return std::nullopt;
}

} // namespace

portrait_book::portrait_book(bot_services& svc, std::filesystem::path folder, engine::duration retry_after)
    : svc_(svc), folder_(std::move(folder)), retry_after_(retry_after) {}

engine::awaitable<std::optional<gm::inline_image>> portrait_book::of(const persona& p) {
    auto& e = entries_[p.id];
    for (;;) {
        switch (portrait_plan::next(p.same_face, e.state, svc_.time.now())) {
        case portrait_step::none:
            co_return std::nullopt;
        case portrait_step::use:
            co_return e.image;
        case portrait_step::wait: {
            // The drawing selfie sets the event whatever happens to it; then the plan is asked again.
            auto* done = e.done.get();
            co_await done->wait();
            break;
        }
        case portrait_step::draw: {
            if (!e.done) {
                const auto ex = co_await boost::asio::this_coro::executor;
                e.done = std::make_unique<engine::event>(ex);
            }
            e.state.drawing = true;
            e.done->reset(); // waiters woken by the last drawing still resume (see engine::event)
            std::optional<gm::inline_image> image;
            try {
                image = co_await fetch(p);
            } catch (...) {
                // Cancelled (shutdown): the waiters may try again; nothing is remembered.
                e.state.drawing = false;
                e.done->set();
                throw;
            }
            e.state.drawing = false;
            e.state.have = image.has_value();
            if (image) {
                e.image = std::move(image);
                e.state.retry_at.reset();
            } else {
                e.state.retry_at = svc_.time.now() + retry_after_;
            }
            e.done->set();
            co_return e.image;
        }
        }
    }
}

engine::awaitable<std::optional<gm::inline_image>> portrait_book::fetch(const persona& p) {
    if (!p.portrait.empty()) {
        const std::filesystem::path file = p.portrait;
        auto read = [file] { return read_whole(file); };
        auto bytes = co_await svc_.offload.run(std::move(read));
        if (!bytes) {
            // It was readable at start; a file removed or emptied since is the operator's to fix.
            engine::log().error("portrait.unreadable", {{"persona", p.id}, {"path", file.string()}});
            co_return std::nullopt;
        }
        co_return gm::inline_image{.mime_type = std::string(mime_of(file)), .bytes = std::move(*bytes)};
    }
    auto look_up = [folder = folder_, id = p.id] { return kept_portrait(folder, id); };
    auto kept = co_await svc_.offload.run(std::move(look_up));
    if (kept) {
        co_return kept;
    }
    auto drawn = co_await draw(p);
    co_return drawn;
}

engine::awaitable<std::optional<gm::inline_image>> portrait_book::draw(const persona& p) {
    gm::image_request req;
    req.prompt = portrait_prompt(p);
    auto r = co_await svc_.images.generate(std::move(req));
    if (!r) {
        engine::log().warn("portrait.failed", {{"persona", p.id}, {"error", r.error().message()}});
        co_return std::nullopt;
    }
    if (r->outcome != gm::image_outcome::image || !r->image) {
        engine::log().warn(
            "portrait.refused",
            {{"persona", p.id}, {"outcome", std::string(gm::to_string(r->outcome))}, {"reason", r->reason}});
        co_return std::nullopt;
    }
    ++drawn_;
    // Kept so that a restart does not draw another face; a failed write only costs a new
    // drawing after the next restart, so the portrait is used either way.
    const auto file = folder_ / (p.id + std::string(extension_of(r->image->mime_type)));
    auto keep = [file, bytes = r->image->bytes]() -> std::string {
        std::error_code ec;
        std::filesystem::create_directories(file.parent_path(), ec);
        if (ec) {
            return "create " + file.parent_path().string() + ": " + ec.message();
        }
        auto written = engine::write_file_atomically(file, bytes);
        return written ? std::string() : written.error().message();
    };
    const std::string error = co_await svc_.offload.run(std::move(keep));
    if (!error.empty()) {
        engine::log().warn("portrait.not_kept", {{"persona", p.id}, {"error", error}});
    } else {
        engine::log().info("portrait.drawn", {{"persona", p.id}, {"path", file.string()}});
    }
    co_return std::move(r->image);
}

} // namespace companion::pipelines
