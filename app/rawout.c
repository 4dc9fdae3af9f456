/* rawout.c: being written (throughput tests, issue 4). */
