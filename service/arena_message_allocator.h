#ifndef RECONNECT_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_
#define RECONNECT_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace reconnect::service {

// Allocates each call's request and response on one protobuf arena, freed
// in one step when gRPC releases the call. A recommendation is many small
// messages and strings; allocating them one by one cost a third of an
// evaluation. Thread-safe (every call gets its own arena).
template <typename Request, typename Response>
class ArenaMessageAllocator final
    : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override {
    return new Holder();
  }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(
          google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(
          google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 16 * 1024;
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace reconnect::service

#endif  // RECONNECT_SERVICE_ARENA_MESSAGE_ALLOCATOR_H_
