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
//   merge <files>         adds up raw results, e.g. the shares of a test (--share I/N)
//   master / worker       the nodes of a cluster: workers join the master, which spreads each
//                         scheduled test over them and merges and exports the results
//   schedule / cancel / status   the master's queue of tests, from anywhere
// `--help` on each subcommand lists its options. chaperon_add_load_test() in CMake writes this
// main() for a program (see the README).

namespace chaperon {

// Parses argv and runs the subcommand it names. Returns the process exit status:
//   0    the run completed and every threshold passed
//   1    the results were written locally but the S3 upload failed; a cluster client or
//        worker that the master refused (wrong token) or that could not reach it
//   2    a usage or setup error (bad flag or threshold, unknown load test, bad config value),
//        reported on stderr
//   3    the run ended early (load_test_timeout, a stop) with partial results
//   99   a threshold failed (as k6), also one that aborted the run
//   128 + N  signal N (SIGINT, SIGTERM) stopped the run; partial results were written
int main(int argc, char** argv);

}  // namespace chaperon
