# twm with many small windows: six xterms tiled and then shuffled (raised in turn, each move
# uncovering the others), xmessage dialogs popped up and dismissed, xload and an analog xclock
# ticking, one terminal grown to nearly the whole screen, filled with long wrapped lines, and
# scrolled back and forth with its scrollbar keys.
twm -f "$(dirname "${BASH_SOURCE[0]}")/twmrc" 2>/dev/null &
sleep 1
for n in 1 2 3 4 5 6; do
  x=$(( (n - 1) % 3 * 330 + 5 )); y=$(( (n - 1) / 3 * 300 + 5 ))
  xterm -sb -sl 2000 -geometry 50x18+$x+$y -title "T$n" -e bash --norc -i &
done
xload -geometry 180x100+820+640 -update 1 &
xclock -analog -update 1 -geometry 120x120+680+640 &
sleep 2.5
for n in 1 2 3 4 5 6; do
  W=$(xdotool search --name "^T$n\$" | head -1)
  xdotool windowactivate --sync "$W" 2>/dev/null || xdotool windowraise "$W"
  xdotool mousemove $(( (n - 1) % 3 * 330 + 100 )) $(( (n - 1) / 3 * 300 + 100 )); sleep 0.1
  xdotool type --delay 20 "seq -s ' ' $((n * 100)) $((n * 100 + 150)) | fold -w 48"
  xdotool key Return; sleep 0.2
done
for round in 1 2; do
  for n in 6 4 2 5 3 1; do
    W=$(xdotool search --name "^T$n\$" | head -1)
    xdotool windowraise "$W"
    xdotool windowmove "$W" $(( (n * 97 + round * 53) % 600 )) $(( (n * 61 + round * 41) % 400 )); sleep 0.12
  done
done
xmessage -geometry +300+300 'first dialog: press nothing' & M1=$!
sleep 0.6
xmessage -geometry +420+360 -buttons ok,cancel 'second dialog, with two buttons' & M2=$!
sleep 0.6
kill $M1 $M2 2>/dev/null
W=$(xdotool search --name '^T3$' | head -1)
xdotool windowraise "$W"; xdotool windowmove "$W" 10 10
xdotool windowsize "$W" 980 640; sleep 0.5
xdotool mousemove 400 300
xdotool type --delay 20 'for i in $(seq 1 120); do printf "%s " {a..z} $i; echo; done'
xdotool key Return; sleep 0.8
for i in $(seq 1 8); do xdotool key shift+Prior; sleep 0.08; done
for i in $(seq 1 8); do xdotool key shift+Next; sleep 0.08; done
sleep 1
