/* Subcommands of the cvmattest CLI; each returns the process exit code. */
#ifndef CVMA_CLI_CMDS_H
#define CVMA_CLI_CMDS_H

int cvma_cmd_show(int argc, char **argv);
int cvma_cmd_verify(int argc, char **argv);
int cvma_cmd_sim(int argc, char **argv);
int cvma_cmd_bench(int argc, char **argv);
int cvma_cmd_result(int argc, char **argv);
int cvma_cmd_demo(int argc, char **argv);
int cvma_cmd_registry(int argc, char **argv);
int cvma_cmd_policy(int argc, char **argv);
int cvma_cmd_collateral(int argc, char **argv);
int cvma_cmd_host_check(int argc, char **argv);
int cvma_cmd_eventlog(int argc, char **argv);
int cvma_cmd_measure(int argc, char **argv);
int cvma_cmd_launch(int argc, char **argv);
int cvma_cmd_tpm(int argc, char **argv);
int cvma_cmd_witness(int argc, char **argv);
int cvma_cmd_collect(int argc, char **argv);
int cvma_cmd_guest_check(int argc, char **argv);
int cvma_cmd_serve(int argc, char **argv);
int cvma_cmd_atls_server(int argc, char **argv);
int cvma_cmd_atls_client(int argc, char **argv);

#endif
