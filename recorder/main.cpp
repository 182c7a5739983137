// recorder <command> [flags]: records Vantage events to JSON-lines files and replays them.
// main only dispatches to the subcommand (commands.hpp).
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "commands/commands.hpp"
#include "ovalstream/runtime/descriptors.hpp"

#ifndef OVALSTREAM_VERSION
#define OVALSTREAM_VERSION "dev"
#endif

namespace {

constexpr std::string_view kUsage =
    "recorder: records Vantage events to JSON-lines files (the original eventrecorder's format) and replays "
    "them.\n"
    "\n"
    "Usage: recorder <command> [flags]\n"
    "\n"
    "Commands:\n"
    "  record     record one competition or every activation, from JetStream or an aggregator's websocket\n"
    "  replay     replay a recording into JetStream, or serve it over websocket (--address)\n"
    "  serve      record every competition continuously and serve recordings and replays over HTTP\n"
    "  simulate   write a simulated competition in the recording format\n"
    "\n"
    "Run 'recorder <command> --help' for the flags of a command. A flag not on the command line is read\n"
    "from OVALSTREAM_<FLAG>, then VANTAGE_<FLAG>, then the config file (--config FILE, default\n"
    "$HOME/.eventrecorder.yaml; its keys are flag names, of any command). -d is short for --debug.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace ovalstream::recorder;
  // Every command may open many files and sockets; `serve` logs the values.
  ovalstream::runtime::raise_descriptor_limit();
  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string& command = args.front();
  const std::span<const std::string> rest(args.begin() + 1, args.end());
  if (command == "record") return run_record(rest, std::cout, std::cerr);
  if (command == "replay") return run_replay(rest, std::cout, std::cerr);
  if (command == "serve") return run_serve(rest, std::cout, std::cerr);
  if (command == "simulate") return run_simulate(rest, std::cout, std::cerr);
  if (command == "--help" || command == "-help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version" || command == "-version" || command == "version") {
    std::cout << "recorder " << OVALSTREAM_VERSION << "\n";
    return 0;
  }
  std::cerr << "recorder: unknown command \"" << command << "\"\n\n" << kUsage;
  return 2;
}
