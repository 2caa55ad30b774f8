package main

import "testing"

func TestTableNumbersAreReadable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   float64
		want string
	}{
		{398, "398"},
		{66906.8312, "66906.83"},
		{1.5e9 + 0.25, "1500000000.25"},
		{0.73456, "0.7346"},
		{-12.005, "-12.01"},
	} {
		if got := formatNumber(c.in); got != c.want {
			t.Errorf("formatNumber(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
