/* The allied5g command line (../shared/CONTRACT.md, "Command line").
 * Exit status: 0 success, 2 usage or scenario error, 1 run-time failure. */
#ifndef A5_CLI_H
#define A5_CLI_H

int a5_cli_main(int argc, char **argv);

#endif
