package segment

import (
	"crypto/md5"
	"encoding/binary"
)

// Hash is the customer's stable 32-bit hash, the number the database
// stores in customers.bucket_hash: the first 32 bits of the MD5 of the ID.
func Hash(customerID string) uint32 {
	sum := md5.Sum([]byte(customerID))
	return binary.BigEndian.Uint32(sum[:4])
}

// Bucket is the customer's stable 0-99 bucket, the number the database
// stores in customers.bucket. Campaign code assigns holdouts and variants
// with it without a query.
func Bucket(customerID string) int {
	return int(Hash(customerID) % 100)
}

// bucketPrime is 2^31-1: seeded buckets hash bucket_hash with
// (h*a + b) mod p, a universal hash whose coefficients come from the seed.
// For two different seeds the pair of buckets is uniform over customers, so
// each campaign's split is independent of every other's, and the product
// fits in a bigint.
const bucketPrime = 2147483647

func seedCoefficients(seed string) (a, b int64) {
	sum := md5.Sum([]byte(seed))
	a = 1 + int64(binary.BigEndian.Uint64(sum[:8])%(bucketPrime-1))
	b = int64(binary.BigEndian.Uint64(sum[8:]) % bucketPrime)
	return a, b
}

// SeededBucket is the customer's 0-99 bucket for one seed (e.g. a campaign
// name): stable for the pair, independent across seeds. It matches the
// `bucket: {seed: ...}` condition.
func SeededBucket(seed, customerID string) int {
	a, b := seedCoefficients(seed)
	h := int64(Hash(customerID)) % bucketPrime
	return int((h*a + b) % bucketPrime % 100)
}
