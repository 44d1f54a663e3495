"""Peak memory of the benchmark's own process.

``VmHWM`` (the high-water mark of the process's address space) starts again at ``exec``;
``ru_maxrss`` does not: a job process started from a driver that holds 300 MiB reported 300 MiB
whatever it used itself. Elsewhere than Linux, ``ru_maxrss`` is what there is.
"""

import resource


def peak_mib() -> float:
	try:
		with open("/proc/self/status") as status:
			for line in status:
				if line.startswith("VmHWM:"):
					return int(line.split()[1]) / 1024
	except OSError:
		pass
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
