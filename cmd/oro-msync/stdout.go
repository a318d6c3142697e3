package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// protectStdout keeps stdout for protocol messages only. It takes a private
// duplicate of fd 1 for the protocol and then points fd 1 at stderr, so
// anything else that prints to stdout (a dependency's fmt.Println, code that
// cached os.Stdout, a C library writing to fd 1) lands in the log instead
// of corrupting the message stream. The private fd is close-on-exec, so
// child processes cannot write to it either.
func protectStdout() (*os.File, error) {
	fd, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, err
	}
	if err := unix.Dup2(2, 1); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "protocol-stdout"), nil
}
