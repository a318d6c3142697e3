// Command echo is the baseline of the start-up benchmark: the least a Go
// program can do to answer one line on stdin.
package main

import (
	"bufio"
	"os"
)

func main() {
	line, _ := bufio.NewReader(os.Stdin).ReadBytes('\n')
	os.Stdout.Write(line)
}
