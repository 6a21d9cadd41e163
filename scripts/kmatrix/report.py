import sys
for c in sys.argv[1:]:
    if '|' in c:
        print(open(c.split('|')[2], errors='replace').read()[-3000:])
