{
  description = "distill-tui: distil a large teacher model into a small local MLX student";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "aarch64-darwin" "x86_64-linux" "aarch64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in {
      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.python311 pkgs.uv ]
            ++ pkgs.lib.optionals pkgs.stdenv.isLinux [ pkgs.openblas ];
          # Let uv use the shell's Python instead of downloading one.
          UV_PYTHON_DOWNLOADS = "never";
          UV_PYTHON = "${pkgs.python311}/bin/python3.11";
        };
      });
    };
}
