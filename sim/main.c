/* allied5g command-line entry point: everything lives in the cli module. */
#include "a5_cli.h"

int main(int argc, char **argv) { return a5_cli_main(argc, argv); }
