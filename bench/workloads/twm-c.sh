# twm with overlapping windows raised and lowered in turn, less paging through a long text by
# pages and by lines, vi typed into, a window iconified and brought back, xcalc and xlogo.
twm -f "$(dirname "${BASH_SOURCE[0]}")/twmrc" 2>/dev/null &
sleep 1
xterm -geometry 80x30+20+20 -title P -e bash -c 'sleep 2; seq -f "%05g a line for the pager to scroll through, with some words" 1 3000 > /tmp/twm-c-pager.txt; less /tmp/twm-c-pager.txt' &
xterm -geometry 70x22+380+200 -title E -e bash -c 'vi /tmp/twm-c-edit.txt' &
xcalc -geometry +700+20 &
xlogo -geometry 200x200+760+500 &
sleep 2.5
WP=$(xdotool search --name '^P$' | head -1); WE=$(xdotool search --name '^E$' | head -1)
xdotool mousemove 200 200; sleep 0.3
for i in $(seq 1 12); do xdotool key space; sleep 0.12; done
for i in $(seq 1 40); do xdotool key j; sleep 0.03; done
for i in $(seq 1 20); do xdotool key k; sleep 0.03; done
xdotool windowraise "$WE"; xdotool mousemove 600 400; sleep 0.3
xdotool type --delay 25 'ia few words typed into vi, then more words on the same line'
xdotool key Return
xdotool type --delay 25 'and a second line'
xdotool key Escape; sleep 0.3
for i in 1 2 3 4; do xdotool windowraise "$WP"; sleep 0.2; xdotool windowraise "$WE"; sleep 0.2; done
xdotool windowminimize "$WE"; sleep 0.6
xdotool windowmap "$WE"; sleep 0.6
for i in $(seq 1 25); do xdotool windowmove "$WE" $((380 - i*10)) $((200 + i*4)); sleep 0.03; done
xdotool mousemove 200 200; sleep 0.2
for i in $(seq 1 8); do xdotool key b; sleep 0.15; done
sleep 1
