// Her reference portrait (the same face in every selfie): the operator's file named in
// personas.json, or a portrait the image model draws once from her description at first use and
// keeps under media/portraits/ (outside retention and /forget: it is the persona's, not a user's).
// Each selfie passes it to the image model as an input image with `same_face_instruction`.
//
// `portrait_plan` decides (a plain class on virtual time); `portrait_book` carries it out.
#pragma once

#include "engine/asio.hpp"
#include "engine/sync.hpp"
#include "engine/time_source.hpp"
#include "net/gemini/image.hpp"
#include "pipelines/persona.hpp"
#include "pipelines/services.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace companion::pipelines {

/// What a selfie does about her portrait.
enum class portrait_step {
    none, ///< draw the selfie from her description alone (same face off, or the portrait failed lately)
    use,  ///< pass the portrait we have
    draw, ///< this selfie fetches or draws the portrait first
    wait, ///< another selfie is drawing it: wait for that one
};

class portrait_plan {
public:
    struct state {
        bool have = false;                            ///< the portrait is in memory
        bool drawing = false;                         ///< a selfie is fetching or drawing it now
        std::optional<engine::time_point> retry_at{}; ///< the last attempt failed: not before then
    };
    static portrait_step next(bool same_face, const state& s, engine::time_point now) noexcept;
};

/// The prompt that draws her portrait, and the instruction that keeps her face in a selfie.
std::string portrait_prompt(const persona& p);
std::string same_face_instruction();

class portrait_book {
public:
    /// `svc` must outlive the book. Drawn portraits are kept in `folder` (created on first write).
    portrait_book(bot_services& svc,
                  std::filesystem::path folder,
                  engine::duration retry_after = std::chrono::minutes{10});

    /// The reference image for a selfie of `p`; nullopt when her selfies are drawn without one
    /// (same face off, or the portrait could not be read or drawn lately: the selfie goes on
    /// without it rather than fail). Concurrent first selfies share one drawing.
    engine::awaitable<std::optional<net::gemini::inline_image>> of(const persona& p);

    std::uint64_t drawn() const noexcept { return drawn_; }
    const std::filesystem::path& folder() const noexcept { return folder_; }

private:
    struct entry {
        std::optional<net::gemini::inline_image> image{};
        portrait_plan::state state{};
        std::unique_ptr<engine::event> done{}; ///< set when the drawing in progress ends
    };
    /// The operator's file, else the one drawn before, else a new drawing; nullopt on failure.
    engine::awaitable<std::optional<net::gemini::inline_image>> fetch(const persona& p);
    engine::awaitable<std::optional<net::gemini::inline_image>> draw(const persona& p);

    bot_services& svc_;
    std::filesystem::path folder_;
    engine::duration retry_after_;
    std::map<std::string, entry, std::less<>> entries_;
    std::uint64_t drawn_ = 0;
};

} // namespace companion::pipelines
