# twm, three xterms; windows moved by small steps, typing, scrolling output.
twm -f "$(dirname "${BASH_SOURCE[0]}")/twmrc" 2>/dev/null & 
sleep 1
xterm -geometry 80x24+10+10 -title A -e bash --norc -i &
xterm -geometry 70x20+300+250 -title B -e bash -c 'sleep 3; for i in 1 2 3; do ls -l /usr/share/doc | head -n 80; sleep 0.5; done; sleep 60' &
xterm -geometry 60x15+520+40 -title C -e bash -c 'top -d 0.5' &
sleep 2
WA=$(xdotool search --name '^A$' | head -1); WB=$(xdotool search --name '^B$' | head -1)
xdotool mousemove 100 100; sleep 0.3
xdotool type --delay 30 'echo twm session; for i in $(seq 1 40); do echo line $i of the scroll; done'
xdotool key Return; sleep 0.5
for i in $(seq 1 30); do xdotool windowmove "$WB" $((300 - i*6)) $((250 - i*3)); sleep 0.04; done
xdotool mousemove 150 120
xdotool type --delay 30 'ls -la /etc | head -40'
xdotool key Return; sleep 0.5
for i in $(seq 1 30); do xdotool windowmove "$WA" $((10 + i*8)) $((10 + i*4)); sleep 0.04; done
sleep 1
