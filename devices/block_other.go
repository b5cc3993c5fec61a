//go:build !linux

package devices

import (
	"errors"
	"os"
)

// punchHole is not available here: Discard writes zeros instead.
func punchHole(*os.File, int64, int64) error { return errors.ErrUnsupported }

// lockImage does nothing here: images are not locked.
func lockImage(*os.File, bool) error { return nil }
