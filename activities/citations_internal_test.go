package activities

import (
	"reflect"
	"testing"
)

func TestReadCitationSelection(t *testing.T) {
	for _, tt := range []struct {
		reply string
		want  []int
		err   bool
	}{
		{reply: `RESPONSE: {"Selected": [0, 2], "Description": "x"}`, want: []int{0, 2}},
		{reply: `RESPONSE: {"Selected": "[1, 0]"}`, want: []int{1, 0}},
		{reply: `RESPONSE: {"selected": "none"}`},
		{reply: `RESPONSE: {"Selected": []}`},
		{reply: `RESPONSE: {"Selected": [7]}`, err: true},
		{reply: `RESPONSE: {"Description": "x"}`, err: true},
	} {
		got, err := readCitationSelection(tt.reply, 3)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got.Indices, tt.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.reply, got.Indices, err, tt.want, tt.err)
		}
	}
}
