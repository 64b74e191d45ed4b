module gameday/linkdelay

go 1.22
