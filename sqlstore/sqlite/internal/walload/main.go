// Command walload measures how large an SQLite store's write-ahead log grows under sustained concurrent
// writes and reads: it runs writers (creating and replacing users) and readers (pages of 100 and reads by
// id) against a fresh sqlite.Open store for a while, sampling the size of the -wal file, and prints the
// largest and last sizes beside the database's.
//
//	go run ./sqlstore/sqlite/internal/walload -d 20s
//
// It uses only sqlite.Open and the Store methods, so that it runs unchanged against older versions of the
// package (to compare before and after a change).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

func main() {
	dur := flag.Duration("d", 20*time.Second, "how long to run the load")
	writers := flag.Int("writers", 4, "concurrent writers")
	readers := flag.Int("readers", 8, "concurrent readers")
	flag.Parse()
	dir, err := os.MkdirTemp("", "walload")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scim.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		log.Fatal(err)
	}

	var writes, reads, failures atomic.Int64
	var ids sync.Map // i -> id of a created user
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	pad := strings.Repeat("x", 400) // users about the size of Entra's, with their JSON twice (data, search)
	for w := range *writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				now := time.Now().UTC().Truncate(time.Millisecond)
				name := fmt.Sprintf("w%d-%d@example.com", w, i)
				u := &scim.User{ID: "id-" + name, UserName: name, DisplayName: pad, Meta: scim.Meta{Created: now, LastModified: now}}
				if i%2 == 1 { // every other write replaces an earlier user
					u.ID = "id-" + fmt.Sprintf("w%d-%d@example.com", w, i-1)
					u.UserName = fmt.Sprintf("w%d-%d@example.com", w, i-1)
					u.Title = strconv.Itoa(i)
					_, err = s.Replace(ctx, u, "")
				} else {
					_, err = s.Create(ctx, u)
					if err == nil {
						ids.Store(created.Add(1), u.ID)
					}
				}
				if err != nil {
					failures.Add(1)
					continue
				}
				writes.Add(1)
			}
		}()
	}
	for r := range *readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if (i+r)%2 == 0 {
					_, err = s.List(ctx, scim.Query{StartIndex: 1 + i%50, Count: 100})
				} else if n := created.Load(); n > 0 {
					id, _ := ids.Load(1 + int64(i)%n)
					_, err = s.Get(ctx, id.(string))
				}
				if err != nil {
					failures.Add(1)
					continue
				}
				reads.Add(1)
			}
		}()
	}

	var maxWAL, sum, samples int64
	start := time.Now()
	for time.Since(start) < *dur {
		time.Sleep(100 * time.Millisecond)
		n := size(path + "-wal")
		maxWAL = max(maxWAL, n)
		sum += n
		samples++
	}
	close(stop)
	wg.Wait()
	lastWAL, db := size(path+"-wal"), size(path)
	if err := s.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v of load, %d writers, %d readers: %d writes, %d reads, %d failures\n",
		*dur, *writers, *readers, writes.Load(), reads.Load(), failures.Load())
	fmt.Printf("WAL: max %s, mean %s, at the end %s; database %s; WAL after Close %s\n",
		mib(maxWAL), mib(sum/max(samples, 1)), mib(lastWAL), mib(db), mib(size(path+"-wal")))
}

func size(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
