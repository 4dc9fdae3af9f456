<?php /* bench/empty.php - PHP-FPM answering 200 with an empty body, nothing else (bench/run). */
