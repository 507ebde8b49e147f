# twm with an xterm that keeps scrolling, one typed into, and a window dragged across both.
twm -f "$(dirname "${BASH_SOURCE[0]}")/twmrc" 2>/dev/null &
sleep 1
xterm -geometry 90x30+0+0 -title S -e bash -c 'sleep 2; for i in $(seq 1 300); do echo "$i $(date +%N) the quick brown fox jumps over the lazy dog"; sleep 0.02; done; sleep 60' &
xterm -geometry 60x20+450+300 -title T -e bash --norc -i &
xclock -update 1 -geometry 150x150+800+20 &
sleep 2
WT=$(xdotool search --name '^T$' | head -1)
xdotool mousemove 600 400; sleep 0.3
xdotool type --delay 25 'for f in /etc/*.conf; do echo $f; done | head -30'
xdotool key Return; sleep 0.5
for i in $(seq 1 50); do xdotool windowmove "$WT" $((450 - i*8)) $((300 - i*5)); sleep 0.03; done
for i in $(seq 1 50); do xdotool windowmove "$WT" $((50 + i*6)) $((50 + i*4)); sleep 0.03; done
sleep 1
