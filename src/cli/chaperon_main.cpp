// The chaperon binary: the CLI over the examples in examples/.
#include "chaperon/main.hpp"

int main(int argc, char** argv) { return chaperon::main(argc, argv); }
