#pragma once
// The command line of a program that holds load tests (library chaperon::main).
//
//   #include <chaperon/main.hpp>
//   int main(int argc, char** argv) { return chaperon::main(argc, argv); }
//
// gives the program the full CLI over every load test registered in it:
//   list                  the registered load tests
//   run <name> [options]  runs one, shows progress and a summary, writes CSV or JSON results
//   quick <url> [options] loops requests on one URL, no scenario needed
// `--help` on each subcommand lists its options. chaperon_add_load_test() in CMake writes this
// main() for a program (see the README).

namespace chaperon {

// Parses argv and runs the subcommand it names. Returns the process exit status: 0 on success;
// 2 for a setup error (unknown load test, bad config value) and CLI11's status for a bad command
// line, both reported on stderr; 3 when the run ended early (load_test_timeout) with partial
// results; 128 + the signal when SIGINT or SIGTERM stopped the run.
int main(int argc, char** argv);

}  // namespace chaperon
