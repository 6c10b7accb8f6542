// An intrusive FIFO of suspended operations, the building block of event, semaphore and channel.
//
// Each waiter is a type-erased completion handler `void(error_code)`. A waiter whose handler has a
// connected cancellation slot removes itself from the queue when cancelled (any cancellation
// type) and completes with `operation_aborted`; nothing is left dangling. Completions are always
// posted to the waiter's executor, never run inside notify(), so a notifier cannot be re-entered.
// Single-threaded: use from the loop thread only.
#pragma once

#include "engine/asio.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <utility>

namespace companion::engine::detail {

class wait_queue {
public:
    using error_code = boost::system::error_code;
    using handler_type = asio::any_completion_handler<void(error_code)>;

    explicit wait_queue(executor ex) : ex_(std::move(ex)) {}
    wait_queue(const wait_queue&) = delete;
    wait_queue& operator=(const wait_queue&) = delete;

    /// Completes every remaining waiter with operation_aborted.
    ~wait_queue() { notify_all(asio::error::operation_aborted); }

    /// Suspends until notified (error_code{} or the notifier's code) or cancelled
    /// (operation_aborted).
    template <class CompletionToken>
    auto async_wait(CompletionToken&& token) {
        return asio::async_initiate<CompletionToken, void(error_code)>(
            [this](auto handler) { this->enqueue(std::move(handler)); },
            token);
    }

    /// Completes the oldest waiter with `ec`; false when nobody waits.
    bool notify_one(error_code ec = {}) {
        node* n = head_;
        if (n == nullptr) {
            return false;
        }
        unlink(n);
        complete(n, ec, true);
        return true;
    }

    /// Completes every waiter with `ec`; returns how many there were.
    std::size_t notify_all(error_code ec = {}) {
        std::size_t count = 0;
        while (notify_one(ec)) {
            ++count;
        }
        return count;
    }

    bool empty() const noexcept { return head_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    const executor& get_executor() const noexcept { return ex_; }

private:
    struct node {
        node* prev = nullptr;
        node* next = nullptr;
        handler_type handler;
        asio::cancellation_slot slot;
    };

    // Lives in the waiter's cancellation slot. After it has fired once it is inert, because the
    // slot may keep it until the slot's owner installs another handler.
    struct cancel_handler {
        wait_queue* queue;
        node* waiter;
        void operator()(asio::cancellation_type_t) {
            node* n = std::exchange(waiter, nullptr);
            if (n == nullptr) {
                return;
            }
            queue->unlink(n);
            queue->complete(n, asio::error::operation_aborted, false);
        }
    };

    template <class Handler>
    void enqueue(Handler handler) {
        auto slot = asio::get_associated_cancellation_slot(handler);
        // Constructed in place: Boost 1.81's any_completion_handler move *assignment* wraps the
        // source in a new handler (it passes an lvalue to the converting constructor), so this
        // code never assigns one.
        auto* n = new node{tail_, nullptr, handler_type(std::move(handler)), {}};
        if (tail_ != nullptr) {
            tail_->next = n;
        } else {
            head_ = n;
        }
        tail_ = n;
        ++size_;
        if (slot.is_connected()) {
            n->slot = slot;
            slot.template emplace<cancel_handler>(cancel_handler{this, n});
        }
    }

    void unlink(node* n) noexcept {
        if (n->prev != nullptr) {
            n->prev->next = n->next;
        } else {
            head_ = n->next;
        }
        if (n->next != nullptr) {
            n->next->prev = n->prev;
        } else {
            tail_ = n->prev;
        }
        --size_;
    }

    void complete(node* n, error_code ec, bool clear_slot) {
        if (clear_slot && n->slot.is_connected()) {
            n->slot.clear();
        }
        handler_type h = std::move(n->handler);
        delete n;
        // Run on the queue's executor, which is the loop the waiters live on.
        asio::post(ex_, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
    }

    executor ex_;
    node* head_ = nullptr;
    node* tail_ = nullptr;
    std::size_t size_ = 0;
};

} // namespace companion::engine::detail
