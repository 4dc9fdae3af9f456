/* tpstats.c: being written (throughput tests, issue 4). */
