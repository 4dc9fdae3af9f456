/* tp.h: being written (throughput tests, issue 4). */
