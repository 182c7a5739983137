#include "client_pool.hpp"

#include <chrono>
#include <future>

namespace ovalstream::bench {

ClientPool::ClientPool(RunShared& shared)
    : shared_(shared), io_(1), work_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

ClientPool::~ClientPool() {
  close_all();
  work_.reset();
  io_.stop();
  thread_.join();
}

void ClientPool::start(std::size_t count) {
  boost::asio::post(io_, [this, count] {
    const auto first = static_cast<std::uint32_t>(clients_.size());
    for (std::uint32_t i = 0; i < count; ++i) {
      auto client = std::make_shared<LoadClient>(io_, shared_, first + i);
      clients_.push_back(client);
      client->start();
    }
  });
}

void ClientPool::close_all() {
  run_on_io([](std::vector<std::shared_ptr<LoadClient>>& clients) {
    for (auto& client : clients) client->close();
    clients.clear();
  });
}

bool ClientPool::run_on_io(const std::function<void(std::vector<std::shared_ptr<LoadClient>>&)>& task) {
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  boost::asio::post(io_, [this, task, done] {
    task(clients_);
    done->set_value();
  });
  return future.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
}

}  // namespace ovalstream::bench
