"""Parts of bench/compare_ocs012.py: the same workloads on our agents and on
those of the released ocs 0.12.1, one router, interleaved rounds."""
