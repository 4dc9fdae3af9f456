/* h_tp.c: being written (throughput tests, issue 4). */
