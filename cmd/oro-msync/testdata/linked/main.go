// Command linked is the second baseline of the start-up benchmark: the
// echo program linked with every package the sidecar links (through
// rpc/api, which imports the Graph client, msgraph-sdk-go, kiota and their
// dependencies), so that their package initialisation runs before main
// as it does in the sidecar. The difference between it and the sidecar is
// what the sidecar's own start and its rpc.discover answer cost; the
// difference between it and echo is the price of the dependencies.
package main

import (
	"bufio"
	"os"

	_ "github.com/oro-msync/oro-msync/rpc/api"
)

func main() {
	line, _ := bufio.NewReader(os.Stdin).ReadBytes('\n')
	os.Stdout.Write(line)
}
