module evolved-pipelines/bench/relay_go

go 1.22
