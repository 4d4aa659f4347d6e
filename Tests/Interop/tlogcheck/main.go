// tlogcheck: an independent checker of maintledger's signed checkpoints and proofs, built on
// Go's golang.org/x/mod/sumdb/note and golang.org/x/mod/sumdb/tlog (the reference the proofs
// issue names), run by Tests/MaintLedgerCLITests/InteropTests.swift.
//
//	tlogcheck note VKEY FILE              open a signed note; print its text
//	tlogcheck inclusion VKEY FILE         check a c2sp.org/tlog-proof@v1 inclusion proof
//	tlogcheck consistency VKEY FILE       check a maintledger consistency proof
//	tlogcheck prove SKEY HASHES INDEX EXTRA
//	                                      build an inclusion proof with tlog: HASHES holds the
//	                                      trail's entry hashes (hex, one a line), EXTRA the
//	                                      entry's hashed bytes; the checkpoint is signed by SKEY
//
// Exit 0 when the check passes, 1 with the reason on stderr when it does not.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return data
}

// openCheckpoint opens a signed checkpoint note and returns its origin, size and root.
func openCheckpoint(vkey string, msg []byte) (string, int64, tlog.Hash) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint: too few lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root: %v", err)
	}
	if lines[0] != verifier.Name() {
		fail("checkpoint origin %q is not the key's name %q", lines[0], verifier.Name())
	}
	return lines[0], size, root
}

// splitProof splits a proof file into its lines before the blank line and the checkpoint after.
func splitProof(data []byte) ([]string, []byte) {
	i := bytes.Index(data, []byte("\n\n"))
	if i < 0 {
		fail("proof: no blank line")
	}
	return strings.Split(string(data[:i]), "\n"), data[i+2:]
}

func hashes(lines []string) []tlog.Hash {
	var out []tlog.Hash
	for _, line := range lines {
		h, err := tlog.ParseHash(line)
		if err != nil {
			fail("proof hash %q: %v", line, err)
		}
		out = append(out, h)
	}
	return out
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: tlogcheck note|inclusion|consistency VKEY FILE, or prove SKEY HASHES INDEX EXTRA")
	}
	switch os.Args[1] {
	case "note":
		verifier, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail("verifier key: %v", err)
		}
		n, err := note.Open(read(os.Args[3]), note.VerifierList(verifier))
		if err != nil {
			fail("note: %v", err)
		}
		fmt.Print(n.Text)
	case "inclusion":
		lines, checkpoint := splitProof(read(os.Args[3]))
		if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") || !strings.HasPrefix(lines[2], "index ") {
			fail("proof: not a c2sp.org/tlog-proof@v1 with extra data and an index")
		}
		extra, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
		if err != nil {
			fail("extra: %v", err)
		}
		index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
		if err != nil {
			fail("index: %v", err)
		}
		_, size, root := openCheckpoint(os.Args[2], checkpoint)
		// The leaf's data is the entry's hash: SHA-256 of the bytes it covers, carried as extra.
		entryHash := sha256.Sum256(extra)
		if err := tlog.CheckRecord(tlog.RecordProof(hashes(lines[3:])), size, root, index, tlog.RecordHash(entryHash[:])); err != nil {
			fail("inclusion: %v", err)
		}
		fmt.Printf("ok: record %d in tree %d\n", index, size)
	case "consistency":
		lines, checkpoint := splitProof(read(os.Args[3]))
		old := strings.Fields(lines[1])
		if lines[0] != "maintledger.dev/tlog-consistency-proof@v1" || len(old) != 3 || old[0] != "old" {
			fail("proof: not a maintledger consistency proof")
		}
		oldSize, err := strconv.ParseInt(old[1], 10, 64)
		if err != nil {
			fail("old size: %v", err)
		}
		oldRoot, err := tlog.ParseHash(old[2])
		if err != nil {
			fail("old root: %v", err)
		}
		_, size, root := openCheckpoint(os.Args[2], checkpoint)
		if err := tlog.CheckTree(tlog.TreeProof(hashes(lines[2:])), size, root, oldSize, oldRoot); err != nil {
			fail("consistency: %v", err)
		}
		fmt.Printf("ok: tree %d extends tree %d\n", size, oldSize)
	case "prove":
		if len(os.Args) != 6 {
			fail("usage: tlogcheck prove SKEY HASHES INDEX EXTRA")
		}
		signer, err := note.NewSigner(strings.TrimSpace(string(read(os.Args[2]))))
		if err != nil {
			fail("signer key: %v", err)
		}
		stored := map[int64]tlog.Hash{}
		var size int64
		for _, line := range strings.Fields(string(read(os.Args[3]))) {
			data, err := hex.DecodeString(line)
			if err != nil {
				fail("entry hash %q: %v", line, err)
			}
			hs, err := tlog.StoredHashes(size, data, tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
				out := make([]tlog.Hash, len(indexes))
				for i, x := range indexes {
					out[i] = stored[x]
				}
				return out, nil
			}))
			if err != nil {
				fail("tree: %v", err)
			}
			base := tlog.StoredHashIndex(0, size)
			for i, h := range hs {
				stored[base+int64(i)] = h
			}
			size++
		}
		reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
			out := make([]tlog.Hash, len(indexes))
			for i, x := range indexes {
				out[i] = stored[x]
			}
			return out, nil
		})
		root, err := tlog.TreeHash(size, reader)
		if err != nil {
			fail("root: %v", err)
		}
		index, err := strconv.ParseInt(os.Args[4], 10, 64)
		if err != nil {
			fail("index: %v", err)
		}
		proof, err := tlog.ProveRecord(size, index, reader)
		if err != nil {
			fail("prove: %v", err)
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", signer.Name(), size, base64.StdEncoding.EncodeToString(root[:]))
		signed, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			fail("sign: %v", err)
		}
		fmt.Printf("c2sp.org/tlog-proof@v1\nextra %s\nindex %d\n", base64.StdEncoding.EncodeToString(read(os.Args[5])), index)
		for _, h := range proof {
			fmt.Println(base64.StdEncoding.EncodeToString(h[:]))
		}
		fmt.Printf("\n%s", signed)
	default:
		fail("unknown command %s", os.Args[1])
	}
}
