# twm with a photo-like picture moved across xterms in small steps, coloured terminal output,
# xeyes following the pointer, a window resized, and a terminal cleared and refilled.
twm -f "$(dirname "${BASH_SOURCE[0]}")/twmrc" 2>/dev/null &
sleep 1
convert -size 300x220 plasma:fractal -blur 0x1 /tmp/twm-d-plasma.png
xterm -geometry 100x35+0+0 -title L -e bash -c 'sleep 2; for r in 1 2 3 4; do for c in $(seq 0 255); do printf "\e[48;5;%sm %3s \e[0m" $c $c; [ $((c % 16)) = 15 ] && echo; done; ls --color=always -l /usr/bin | head -60; sleep 0.4; done; sleep 60' &
xterm -geometry 60x15+560+420 -title R -e bash --norc -i &
xeyes -geometry 200x120+800+20 &
display -geometry +620+40 /tmp/twm-d-plasma.png &
sleep 3
WR=$(xdotool search --name '^R$' | head -1)
WI=$(xdotool search --class 'Display' | head -1)
for i in $(seq 1 30); do xdotool mousemove $((100 + i*25)) $((600 - i*15)); sleep 0.03; done
[ -n "$WI" ] && for i in $(seq 1 35); do xdotool windowmove "$WI" $((620 - i*15)) $((40 + i*8)); sleep 0.04; done
xdotool mousemove 700 500; sleep 0.3
xdotool type --delay 30 'clear; printf "%s\n" {1..60} | column -c 58; echo done'
xdotool key Return; sleep 0.5
for i in $(seq 1 12); do xdotool windowsize "$WR" $((420 + i*15)) $((220 + i*10)); sleep 0.06; done
xdotool type --delay 30 'clear; ls -C /usr/share'
xdotool key Return; sleep 0.5
[ -n "$WI" ] && for i in $(seq 1 20); do xdotool windowmove "$WI" $((95 + i*20)) $((320 - i*12)); sleep 0.04; done
sleep 1
